"""Reading request bodies: JSON only, and only text a database can store.

Python's JSON decoder accepts what no UTF-8 text holds (a lone ``\\ud800`` escape) and nesting deep
enough to exhaust the stack; either would end in a 500 (when the answer echoes the value, or when
it is stored). Both are refused here as 400s, the first naming the field that holds it.
"""

from collections.abc import Callable, Mapping

from rest_framework import exceptions, parsers


def strings_where(data, test: Callable[[str], bool], message: str) -> dict[str, list[str]]:
    """``message`` for every key or string value in ``data`` for which ``test`` holds, by dotted
    path (``host_interfaces.0.name``). Iterative: deep input cannot exhaust the stack."""
    errors: dict[str, list[str]] = {}
    pending = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, Mapping):
            for key, item in value.items():
                key = str(key)
                item_path = f"{path}.{_printable(key)}" if path else _printable(key)
                if test(key):
                    errors.setdefault(item_path, []).append(message)
                pending.append((item_path, item))
        elif isinstance(value, list):
            for n, item in enumerate(value):
                pending.append((f"{path}.{n}" if path else str(n), item))
        elif isinstance(value, str) and test(value):
            errors.setdefault(path or "non_field_errors", []).append(message)
    return errors


def has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing lone surrogates (per field) and too deep nesting with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        message = "Not text: it holds a lone surrogate escape."
        if errors := strings_where(data, has_lone_surrogate, message):
            raise exceptions.ValidationError(errors)
        return data
