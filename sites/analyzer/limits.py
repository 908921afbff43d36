"""What the analyzer accepts as input: text of bounded size, so a hostile upload gives a clear
error instead of a hung worker. Every parser is linear in the input after this check."""

from __future__ import annotations

from sites.analyzer.model import ConfigError

MAX_BYTES = 5_000_000
MAX_LINES = 100_000


def config_lines(data: str | bytes) -> list[str]:
    """The configuration's lines, or :class:`ConfigError` for oversized, binary or non-UTF-8
    input."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise ConfigError(_too_big(len(data)))
        if b"\x00" in data:
            raise ConfigError("the file is binary (it contains NUL bytes), not a configuration")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfigError(
                f"the file is not UTF-8 text (invalid byte at offset {error.start})"
            ) from None
    else:
        text = data
        if len(text) > MAX_BYTES:
            raise ConfigError(_too_big(len(text.encode("utf-8", "surrogatepass"))))
        if "\x00" in text:
            raise ConfigError("the file is binary (it contains NUL bytes), not a configuration")
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ConfigError(f"the file has {len(lines):,} lines; the limit is {MAX_LINES:,}")
    return lines


def _too_big(size: int) -> str:
    return f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes (5 MB)"
