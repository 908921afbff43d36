"""Address safety for inbound probes: probes are not a port scanner (DESIGN.md, "Boundaries").

An inbound probe connects from a portal worker to a site's declared public address. This module
decides whether that address may be probed at all, and pins it:

- :func:`check_target` parses an IP literal strictly and refuses every address that is not a
  public unicast address on the Internet, with a reason a person can read.
- :func:`resolve_once` accepts an IP literal or a DNS name, resolves a name exactly once, refuses
  the name if *any* of its addresses is forbidden (DNS rebinding), and returns the one address
  the probe must connect to. Callers connect to that address and never resolve the name again.
- :func:`check_port` lets only the service profile's ports through.

What it promises:

- Parsing is strict and the same on every Python version: only a dotted quad of four canonical
  decimal numbers (``203.0.113.7``) or a plain IPv6 literal. Shorthand and integer forms that
  ``inet_aton`` would accept (``127.1``, ``0x7f.0.0.1``, ``017700000001``, ``2130706433``),
  leading zeros, surrounding whitespace, zone ids (``fe80::1%eth0``), brackets and ports are
  refused as unparsable rather than guessed at.
- The decision does not rely on ``ipaddress``'s ``is_global`` being right for embedded IPv4
  forms (3.12.1 gets IPv4-mapped addresses wrong): IPv4-mapped (``::ffff:a.b.c.d``),
  IPv4-compatible (``::a.b.c.d``), IPv4-translated (``::ffff:0:a.b.c.d``), 6to4 (``2002::/16``),
  Teredo (``2001::/32``) and NAT64 (``64:ff9b::/96``, ``64:ff9b:1::/48``) are unwrapped and
  judged explicitly. Only the well-known NAT64 prefix embedding a public IPv4 address is accepted;
  the other forms are refused, naming the IPv4 address they carry. ``is_global`` is used only as
  a last net for ranges the tables below do not name.
- ``allow_private=True`` (the lab setting ``PROBE_ALLOW_PRIVATE``) additionally allows loopback,
  private (RFC 1918, unique local ``fc00::/7``), shared (``100.64.0.0/10``), benchmarking and
  documentation addresses, so tests and labs can probe themselves. It never allows unparsable
  input, the unspecified address, multicast, broadcast, link-local (which holds the cloud metadata
  service), reserved space, known metadata endpoints, or IPv4 smuggled inside an IPv6 form.

Pure standard library; no Django, no I/O except the one resolver call in :func:`resolve_once`.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any

IPAddress = IPv4Address | IPv6Address


class ForbiddenAddress(ValueError):
    """The address (or name) may not be probed; ``reason`` says why, for the person who gave it."""

    def __init__(self, reason: str, *, address: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.address = address


class UnresolvableHost(ForbiddenAddress):
    """A DNS name that did not resolve. A subclass, so catching ForbiddenAddress still refuses;
    catch this one first to try again later (a temporary DNS failure is not a verdict)."""


class ForbiddenPort(ValueError):
    """The port is not one the service profile opens; inbound probes go to those ports only."""

    def __init__(self, reason: str, *, port: object = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.port = port


# ---------------------------------------------------------------------------------------------
# Parsing

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# re.ASCII and [0-9]: Python's \d and int() also accept non-ASCII digits (fullwidth, Arabic-Indic).
_IPV4_CANONICAL = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}", re.ASCII)
_IPV6_CHARACTERS = re.compile(r"[0-9A-Fa-f:.]+", re.ASCII)
_MAX_LITERAL_LENGTH = 45  # the longest IPv6 text: 6 groups of 4, "::"-less, plus a dotted quad


def parse_address(text: object) -> IPAddress:
    """Parse one IP literal strictly; raise :class:`ForbiddenAddress` for anything else.

    Accepts ``IPv4Address``/``IPv6Address`` objects too (a scoped IPv6 object is refused). Says
    nothing about whether the address may be probed: that is :func:`check_target`.
    """
    if isinstance(text, IPv4Address | IPv6Address):
        text = str(text)  # a scoped IPv6Address prints its "%zone" and is refused below
    if not isinstance(text, str):
        raise ForbiddenAddress(
            f"not an IP address: expected text, got {type(text).__name__}", address=text
        )
    shown = _shown(text)
    if not text:
        raise ForbiddenAddress("not an IP address: empty", address=text)
    if len(text) > _MAX_LITERAL_LENGTH:
        raise ForbiddenAddress(f"not an IP address: {shown} is too long", address=text)
    if text != text.strip() or any(c.isspace() for c in text):
        raise ForbiddenAddress(f"not an IP address: {shown} contains whitespace", address=text)
    if "%" in text:
        raise ForbiddenAddress(
            f"not an IP address: {shown} carries a zone id; give the address without '%…'",
            address=text,
        )
    if "[" in text or "]" in text:
        raise ForbiddenAddress(
            f"not an IP address: {shown}; give the address without brackets or port",
            address=text,
        )
    if ":" not in text:
        if _IPV4_CANONICAL.fullmatch(text) is None:
            raise ForbiddenAddress(
                f"not an IP address: {shown}; write IPv4 as four decimal numbers 0-255 without "
                "leading zeros, e.g. 203.0.113.7 (no shorthand, hex, octal, integer or port)",
                address=text,
            )
        return IPv4Address(text)
    if _IPV6_CHARACTERS.fullmatch(text) is None:
        raise ForbiddenAddress(f"not an IP address: {shown}", address=text)
    if "." in text and text.count(":") == 1:
        raise ForbiddenAddress(
            f"not an IP address: {shown}; give the address without a port", address=text
        )
    if "." in text and _IPV4_CANONICAL.fullmatch(text.rpartition(":")[2]) is None:
        raise ForbiddenAddress(
            f"not an IP address: {shown}; an IPv6 address may end in a dotted quad only in "
            "canonical form",
            address=text,
        )
    try:
        return IPv6Address(text)
    except ValueError:
        raise ForbiddenAddress(
            f"not an IP address: {shown} (an IPv4:port pair, or malformed IPv6?)", address=text
        ) from None


def _shown(text: str) -> str:
    """The input as it can be shown back safely: quoted, escaped, shortened."""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "...'"


# ---------------------------------------------------------------------------------------------
# Special-purpose ranges. Order matters: the first match decides. Each entry says whether the lab
# setting (allow_private) lets it through.


@dataclass(frozen=True)
class _Range:
    network: IPv4Network | IPv6Network
    reason: str
    lab_ok: bool = False


def _ranges(*rows: tuple[Any, ...]) -> tuple[_Range, ...]:
    return tuple(
        _Range(IPv4Network(n) if ":" not in n else IPv6Network(n), reason, *rest)
        for n, reason, *rest in rows
    )


_IPV4_RANGES = _ranges(
    ("0.0.0.0/32", "the unspecified address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("169.254.169.254/32", "the cloud metadata service (link-local)"),
    ("100.100.100.200/32", "the cloud metadata service (Alibaba Cloud)"),
    ("0.0.0.0/8", "'this network' (0.0.0.0/8), not a destination"),
    ("127.0.0.0/8", "loopback (127.0.0.0/8)", True),
    ("10.0.0.0/8", "private (RFC 1918, 10.0.0.0/8)", True),
    ("172.16.0.0/12", "private (RFC 1918, 172.16.0.0/12)", True),
    ("192.168.0.0/16", "private (RFC 1918, 192.168.0.0/16)", True),
    ("100.64.0.0/10", "in the shared address space for carrier-grade NAT (100.64.0.0/10)", True),
    ("169.254.0.0/16", "link-local (169.254.0.0/16)"),
    ("192.0.0.0/24", "in the IETF protocol assignments range (192.0.0.0/24)"),
    ("192.0.2.0/24", "a documentation address (TEST-NET-1, 192.0.2.0/24)", True),
    ("198.51.100.0/24", "a documentation address (TEST-NET-2, 198.51.100.0/24)", True),
    ("203.0.113.0/24", "a documentation address (TEST-NET-3, 203.0.113.0/24)", True),
    ("192.88.99.0/24", "in the deprecated 6to4 relay anycast range (192.88.99.0/24)"),
    ("198.18.0.0/15", "in the benchmarking range (198.18.0.0/15)", True),
    ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
    ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
)

_IPV6_RANGES = _ranges(
    ("::/128", "the unspecified address"),
    ("::1/128", "loopback (::1)", True),
    ("fd00:ec2::254/128", "the cloud metadata service (AWS, IPv6)"),
    ("ff00::/8", "multicast (ff00::/8)"),
    ("fe80::/10", "link-local (fe80::/10)"),
    ("fec0::/10", "site-local (fec0::/10, deprecated)"),
    ("fc00::/7", "unique local, i.e. private (fc00::/7)", True),
    ("::/8", "reserved (::/8)"),
    ("100::/64", "in the discard-only range (100::/64)"),
    ("2001:2::/48", "in the benchmarking range (2001:2::/48)", True),
    ("2001:10::/28", "an ORCHID identifier (2001:10::/28), not routable"),
    ("2001:20::/28", "an ORCHIDv2 identifier (2001:20::/28), not routable"),
    ("2001:db8::/32", "a documentation address (2001:db8::/32)", True),
    ("3fff::/20", "a documentation address (3fff::/20)", True),
    ("5f00::/16", "an SRv6 segment identifier (5f00::/16), not routable"),
)

_GLOBAL_UNICAST = IPv6Network("2000::/3")
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = IPv6Network("64:ff9b:1::/48")
_IPV4_MAPPED = IPv6Network("::ffff:0:0/96")
_IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = IPv6Network("::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_TEREDO = IPv6Network("2001::/32")


def _match(ip: IPAddress, ranges: tuple[_Range, ...]) -> _Range | None:
    return next((r for r in ranges if ip in r.network), None)


def _ipv4_verdict(ip: IPv4Address, *, allow_private: bool) -> str | None:
    """Why this IPv4 address may not be probed, or None when it may."""
    hit = _match(ip, _IPV4_RANGES)
    if hit is not None:
        return None if (hit.lab_ok and allow_private) else hit.reason
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return "not a globally routable address"
    return None


def _embedded(ip: IPv4Address) -> str:
    """'198.51.100.7, which is documentation (…)' or just '8.8.8.8' when it is public."""
    # Embedded addresses are always judged strictly: a lab never needs to reach its loopback or
    # private network through a translation form, and such forms are how filters get bypassed.
    verdict = _ipv4_verdict(ip, allow_private=False)
    return f"{ip}, which is {verdict}" if verdict else str(ip)


def _ipv6_verdict(ip: IPv6Address, *, allow_private: bool) -> str | None:
    """Why this IPv6 address may not be probed, or None when it may."""
    if ip == IPv6Address("::") or ip == IPv6Address("::1"):
        hit = _match(ip, _IPV6_RANGES)
        assert hit is not None  # ::/128 and ::1/128 are rows of _IPV6_RANGES
        return None if (hit.lab_ok and allow_private) else hit.reason
    # IPv4 inside IPv6: unwrap explicitly instead of trusting is_global on these forms.
    if ip in _IPV4_MAPPED:
        return (
            f"an IPv4-mapped IPv6 address of {_embedded(IPv4Address(int(ip) & 0xFFFFFFFF))}; "
            "give the IPv4 address itself"
        )
    if ip in _IPV4_TRANSLATED:
        return (
            f"an IPv4-translated IPv6 address of {_embedded(IPv4Address(int(ip) & 0xFFFFFFFF))}"
            "; give the IPv4 address itself"
        )
    if ip in _IPV4_COMPATIBLE:
        return (
            f"a deprecated IPv4-compatible IPv6 address of "
            f"{_embedded(IPv4Address(int(ip) & 0xFFFFFFFF))}; give the IPv4 address itself"
        )
    if ip in _NAT64_WELL_KNOWN:
        inner = IPv4Address(int(ip) & 0xFFFFFFFF)
        if _ipv4_verdict(inner, allow_private=False) is not None:
            return f"a NAT64 address (64:ff9b::/96) of {_embedded(inner)}"
        return None  # translated by a NAT64 gateway to a public IPv4 address
    if ip in _NAT64_LOCAL_USE:
        return "a local-use NAT64 address (64:ff9b:1::/48), not reachable from the Internet"
    if ip in _SIX_TO_FOUR:
        inner = IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
        return f"a 6to4 address (2002::/16, deprecated) embedding {_embedded(inner)}"
    if ip in _TEREDO:
        server = IPv4Address((int(ip) >> 64) & 0xFFFFFFFF)
        client = IPv4Address(~int(ip) & 0xFFFFFFFF)  # Teredo stores the client obfuscated
        return (
            f"a Teredo tunnel address (2001::/32) with server {_embedded(server)} "
            f"and client {_embedded(client)}"
        )
    hit = _match(ip, _IPV6_RANGES)
    if hit is not None:
        return None if (hit.lab_ok and allow_private) else hit.reason
    if ip not in _GLOBAL_UNICAST:
        return "outside the global unicast space (2000::/3): reserved or unassigned"
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return "not a globally routable address"
    return None


def forbidden_reason(ip: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why an already parsed address may not be probed, or None when it may."""
    if isinstance(ip, IPv4Address):
        return _ipv4_verdict(ip, allow_private=allow_private)
    return _ipv6_verdict(ip, allow_private=allow_private)


def check_target(address: object, *, allow_private: bool = False) -> IPAddress:
    """Return the parsed address if an inbound probe may go there; else raise ForbiddenAddress.

    ``address`` is an IP literal (or an ``ipaddress`` object); names are :func:`resolve_once`'s.
    The reason names the address and the rule it breaks, e.g.
    ``"10.0.0.1 is private (RFC 1918, 10.0.0.0/8)"``.
    """
    ip = parse_address(address)
    reason = forbidden_reason(ip, allow_private=allow_private)
    if reason is not None:
        shown = address if isinstance(address, str) else ip  # parsed, so safe to show
        raise ForbiddenAddress(f"{shown} is {reason}", address=address)
    return ip


# ---------------------------------------------------------------------------------------------
# Names

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0[xX][0-9A-Fa-f]*)", re.ASCII)

Resolver = Callable[..., Iterable[tuple[Any, ...]]]


def _check_host_name(host: str) -> str:
    """``host`` if it is a DNS name in ASCII (IDNA already applied), else ForbiddenAddress."""
    name = host[:-1] if host.endswith(".") else host  # a trailing dot marks it absolute
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ForbiddenAddress(
            f"neither an IP address nor a valid host name: {_shown(host)}", address=host
        )
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # No top-level domain is numeric: this is an IP address in a form inet_aton would
        # guess at (127.1, 0x7f.1, 2130706433); refuse it instead of resolving it.
        raise ForbiddenAddress(
            f"not an IP address: {_shown(host)}; write IPv4 as four decimal numbers 0-255 "
            "without leading zeros",
            address=host,
        )
    return host


def resolve_once(
    host: str, *, allow_private: bool = False, resolver: Resolver = socket.getaddrinfo
) -> IPAddress:
    """Resolve ``host`` once and return the address to probe, pinned.

    An IP literal is checked and returned without any lookup. A DNS name is resolved with one
    call to ``resolver`` (``socket.getaddrinfo``'s signature); every address it returns is
    checked, and the name is refused if *any* of them is forbidden, so a name that mixes a public
    address with a private one cannot be used to reach the private one later (DNS rebinding).
    The first address, in the resolver's preference order, is returned: connect to exactly that
    address, and never resolve the name again for this probe run.

    Raises :class:`ForbiddenAddress`, or its subclass :class:`UnresolvableHost` when the name
    does not resolve.
    """
    if not isinstance(host, str):
        raise ForbiddenAddress(
            f"not a host: expected text, got {type(host).__name__}", address=host
        )
    try:
        literal = parse_address(host)
    except ForbiddenAddress:
        if any(c in host for c in ":%[]") or any(c.isspace() for c in host):
            raise  # meant as an IP literal (IPv6, zone id, brackets, port): the parser says why
        literal = None
    if literal is not None:
        return check_target(literal, allow_private=allow_private)
    name = _check_host_name(host)
    try:
        infos = list(resolver(name, None, type=socket.SOCK_STREAM))
    except (OSError, UnicodeError) as exc:  # socket.gaierror is an OSError
        raise UnresolvableHost(f"{name} did not resolve: {exc}", address=host) from None
    addresses: list[IPAddress] = []
    for info in infos:
        raw = info[4][0]
        try:
            ip = check_target(raw, allow_private=allow_private)
        except ForbiddenAddress as exc:
            raise ForbiddenAddress(
                f"{name} resolves to a forbidden address: {exc.reason}", address=host
            ) from None
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnresolvableHost(f"{name} did not resolve to any address", address=host)
    return addresses[0]


# ---------------------------------------------------------------------------------------------
# Ports


def check_port(port: object, allowed_ports: Iterable[Any], *, protocol: str | None = None) -> int:
    """Return ``port`` if the service profile opens it; else raise :class:`ForbiddenPort`.

    ``allowed_ports`` holds ints, or port specs with ``.port`` and ``.protocol`` (the profile's
    ``PortSpec``); with specs and a ``protocol`` ("tcp"/"udp"), both must match.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ForbiddenPort(f"not a port number: {port!r}", port=port)
    allowed: set[int] = set()
    for spec in allowed_ports:
        if isinstance(spec, int):
            allowed.add(spec)
        elif protocol is None or spec.protocol == protocol:
            allowed.add(spec.port)
    if port not in allowed:
        which = f"{protocol.upper()} " if protocol else ""
        listed = ", ".join(str(p) for p in sorted(allowed)) or "none"
        raise ForbiddenPort(
            f"{which}port {port} is not one of the service profile's ports ({listed})", port=port
        )
    return port
