"""The probe line protocol (docs/probe-protocol.md, "Outbound"): pure parsing and formatting.

One ASCII line per message, ending in ``\\n`` (``\\r\\n`` accepted), at most 256 bytes including
the newline::

    client:  OBM-PROBE 1 <token>
    server:  OK <observed_ip> <observed_port> <port>/<proto> <unix_time> <receipt_mac>
       or    ERR <CODE> <human readable message>

Nothing here does I/O, reads a clock or checks a signature (that is ``tokens``): these functions
only decide whether bytes are a well-formed line and build the lines to send.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

VERB = "OBM-PROBE"
VERSION = "1"
MAX_LINE_BYTES = 256  # including the newline
PROTOCOLS = ("tcp", "udp")


class ErrorCode(StrEnum):
    """The codes of an ``ERR`` line. Members are plain strings ("MALFORMED", …)."""

    MALFORMED = "MALFORMED"
    TOO_LONG = "TOO_LONG"
    UNKNOWN = "UNKNOWN"
    EXPIRED = "EXPIRED"
    REPLAYED = "REPLAYED"
    RATE_LIMITED = "RATE_LIMITED"


# Short on purpose: over UDP an answer must not be much larger than the request (reflection).
DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.MALFORMED: "expected 'OBM-PROBE 1 <token>'",
    ErrorCode.TOO_LONG: "line exceeds 256 bytes",
    ErrorCode.UNKNOWN: "token not issued by this portal, or altered",
    ErrorCode.EXPIRED: "token expired; start a new probe run",
    ErrorCode.REPLAYED: "token already used on this port and protocol",
    ErrorCode.RATE_LIMITED: "too many probes from this address; try again in a minute",
}


class ProtocolError(Exception):
    """A request line was refused before its token was looked at (MALFORMED or TOO_LONG)."""

    def __init__(self, code: ErrorCode, message: str | None = None):
        self.code = code
        self.message = message or DEFAULT_MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


# The token alphabet is the decimal digits, the dot and base64url; tokens.py checks the shape.
_REQUEST = re.compile(rb"OBM-PROBE 1 ([0-9A-Za-z_.\-]+)")
_TOKEN_CHARS = re.compile(rb"[0-9A-Za-z_.\-]+")
_PRINTABLE = re.compile(rb"[\x20-\x7e]*")
_MESSAGE = re.compile(r"[\x20-\x7e]*")


def split_line(line: bytes) -> tuple[bytes, int]:
    """Strip the terminator (``\\n`` or ``\\r\\n``) from ``line``; return (body, counted size).

    The size is what counts against the limit: the line's bytes including its newline. A line
    without a terminator (a UDP datagram, or a TCP line cut by end of stream) is counted as if it
    had a ``\\n``, so the same text is within the limit however it arrives.
    """
    if line.endswith(b"\n"):
        body = line[:-1]
        return (body[:-1] if body.endswith(b"\r") else body), len(line)
    return line, len(line) + 1


def parse_request(line: bytes, *, limit: int = MAX_LINE_BYTES) -> str:
    """Return the token of a request line, or raise :class:`ProtocolError`.

    ``line`` is the raw line, with or without its terminator. TOO_LONG when it exceeds ``limit``
    bytes including the newline; MALFORMED for anything but exactly ``OBM-PROBE 1 <token>`` with
    single spaces and a token of ``[0-9A-Za-z_.-]`` characters. The token's own structure and
    signature are checked by ``tokens.verify_token``.
    """
    body, size = split_line(line)
    if size > limit:
        raise ProtocolError(ErrorCode.TOO_LONG, f"line exceeds {limit} bytes")
    match = _REQUEST.fullmatch(body)
    if match is None:
        raise ProtocolError(ErrorCode.MALFORMED, _diagnose(body))
    return match.group(1).decode("ascii")


def _diagnose(body: bytes) -> str:
    """Say what is wrong with a line that is not a request (error path only)."""
    if not _PRINTABLE.fullmatch(body):
        return "bad characters (printable ASCII only)"
    fields = body.split(b" ")
    if fields[0] != VERB.encode():
        return f"expected '{VERB} {VERSION} <token>'"
    if len(fields) < 2 or fields[1] != VERSION.encode():
        return f"unsupported protocol version (this portal speaks {VERSION})"
    if len(fields) < 3 or not fields[2]:
        return "missing token"
    if len(fields) > 3:
        return "extra fields after the token"
    if not _TOKEN_CHARS.fullmatch(fields[2]):
        return "bad characters in token"
    return DEFAULT_MESSAGES[ErrorCode.MALFORMED]  # pragma: no cover - the regex accepted it


def format_request(token: str) -> bytes:
    """The client's line for ``token``."""
    return f"{VERB} {VERSION} {token}\n".encode("ascii")


def format_ok(
    observed_ip: str, observed_port: int, port: int, proto: str, unix_time: int, receipt: str
) -> bytes:
    """The ``OK`` answer: what the responder saw, and the receipt that signs it."""
    if proto not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {proto!r}")
    return f"OK {observed_ip} {observed_port} {port}/{proto} {unix_time} {receipt}\n".encode(
        "ascii"
    )


def format_err(code: ErrorCode | str, message: str | None = None) -> bytes:
    """The ``ERR`` answer for ``code``; ``message`` defaults to the code's standard text.

    The message must be printable ASCII; it is shortened so the line fits the limit.
    """
    code = ErrorCode(code)
    text = DEFAULT_MESSAGES[code] if message is None else message
    if not _MESSAGE.fullmatch(text):
        raise ValueError("an ERR message must be printable ASCII on one line")
    line = f"ERR {code} {text}".rstrip()[: MAX_LINE_BYTES - 1]
    return (line + "\n").encode("ascii")


@dataclass(frozen=True, slots=True)
class OkReply:
    """A parsed ``OK`` line: the responder's view of the probe, and its receipt."""

    observed_ip: str
    observed_port: int
    port: int
    proto: str
    unix_time: int
    receipt: str


@dataclass(frozen=True, slots=True)
class ErrReply:
    """A parsed ``ERR`` line."""

    code: str
    message: str


def parse_reply(line: bytes) -> OkReply | ErrReply:
    """Parse the responder's answer (for clients, tests and the benchmark).

    Raises ``ValueError`` when ``line`` is neither a well-formed ``OK`` nor ``ERR`` line.
    """
    body, size = split_line(line)
    if size > MAX_LINE_BYTES or not _PRINTABLE.fullmatch(body):
        raise ValueError(f"not a reply line: {line[:80]!r}")
    text = body.decode("ascii")
    if text.startswith("ERR "):
        code, _, message = text[4:].partition(" ")
        if not code:
            raise ValueError(f"ERR line without a code: {text!r}")
        return ErrReply(code, message)
    fields = text.split(" ")
    if len(fields) != 6 or fields[0] != "OK":
        raise ValueError(f"not a reply line: {text!r}")
    port, slash, proto = fields[3].partition("/")
    try:
        if not slash or proto not in PROTOCOLS:
            raise ValueError(fields[3])
        return OkReply(fields[1], int(fields[2]), int(port), proto, int(fields[4]), fields[5])
    except ValueError:
        raise ValueError(f"malformed OK line: {text!r}") from None
