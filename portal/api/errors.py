"""The one shape of an API error body: each field at fault with its messages."""

from collections.abc import Mapping

from rest_framework.settings import api_settings

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY


def field_errors(errors: Mapping) -> dict[str, list[str]]:
    """A ``ServiceError``'s errors as an API error body: each field (dotted for nested ones, as in
    docs/site-file.md) with its messages; what concerns the whole input under
    ``non_field_errors``."""
    body: dict[str, list[str]] = {}
    for field, messages in errors.items():
        key = NON_FIELD_ERRORS if field in ("", "__all__") else field
        body.setdefault(key, []).extend(str(m) for m in messages)
    return body
