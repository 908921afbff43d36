"""Secrets out of a configuration before anything of it is stored.

Firewall exports hold password hashes, pre-shared keys, SNMP communities, API keys, private keys
and certificates. ``redact(text, vendor)`` replaces each such value with ``[redacted]`` in the
way the vendor writes it, and keeps everything else, **line for line**: the result has the same
lines (``str.splitlines``, as the analyzer counts them), so a line number the analyzer cites in
the redacted text is the same line of the customer's file. The replacement keeps each format
readable by its parser (quotes stay balanced, XML stays well-formed), so the analysis of the
redacted text gives the same verdicts as the original's; none of the redacted values decides a
flow.

What is redacted, per family of formats (a value is always the whole token or quoted string):

- every text format: PEM blocks (``-----BEGIN … -----`` to ``-----END … -----``);
- Cisco ASA and IOS: ``enable password|secret``, ``username … password|secret``, ``passwd``,
  ``key``/``key-string`` (TACACS+, RADIUS, key chains, ``crypto isakmp key``), ``pre-shared-key``,
  ``snmp-server community`` / ``… community``, SNMPv3 ``auth``/``priv`` passphrases,
  ``authentication-key``, ``message-digest-key``, ``ldap-login-password``, ``wpa-psk``,
  ``password-encrypt``, and the hex lines of ``crypto ca certificate chain`` up to ``quit``;
- FortiGate: every ``set`` whose name holds password, passwd, pwd, secret, psk, passphrase,
  private-key, api-key, token or community, ``set key``, and ``set name`` in ``config system snmp
  community`` (the community is its name); multi-line quoted values (keys, certificates) whole;
- MikroTik: every ``name=value`` whose name holds password, secret, passphrase, pre-shared-key,
  psk, private-key or auth-key, and ``name=`` in ``/snmp community`` (the community);
- XML (pfSense, OPNsense, PAN-OS): the content of elements named for secrets (``<password>``,
  ``<bcrypt-hash>``, ``<sha512-hash>``, ``<prv>``, ``<crt>``, ``<authorizedkeys>``, ``<ipsecpsk>``,
  ``<pre-shared-key>``, ``<key>``, ``<private-key>``, ``<phash>``, ``<rocommunity>``,
  ``<ldap_bindpw>``, ``<radius_secret>``, ``<tls>``, ``<shared_key>``, …), on one line or several;
- iptables and nftables: nothing beyond PEM blocks (their rules hold no secrets).

Pure: no Django, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MASK = "[redacted]"

CISCO = ("cisco-asa", "cisco-ios")
XML = ("pfsense", "opnsense", "paloalto")


@dataclass(frozen=True)
class Redacted:
    """The redacted text, how many values were replaced, and on which lines (1-based)."""

    text: str
    count: int
    lines: tuple[int, ...]


def redact(text: str, vendor: str) -> Redacted:
    """``text`` (a ``vendor`` configuration) with every secret replaced by ``[redacted]``, line
    for line. An unknown vendor gets every family's rules: better too much than too little."""
    family = _family(vendor)
    pieces = text.splitlines(keepends=True)
    state = _State()
    out: list[str] = []
    lines: list[int] = []
    count = 0
    for number, piece in enumerate(pieces, start=1):
        body = piece.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        ending = piece[len(body) :]
        redacted, replaced = _redact_line(body, family, state)
        if replaced:
            count += replaced
            lines.append(number)
        out.append(redacted + ending)
    return Redacted("".join(out), count, tuple(lines))


def _family(vendor: str) -> str:
    if vendor in CISCO:
        return "cisco"
    if vendor in XML:
        return "xml"
    if vendor in ("fortigate", "mikrotik", "iptables", "nftables"):
        return vendor
    return "all"


@dataclass
class _State:
    """What spans lines: a PEM block, a Cisco certificate's hex dump, a FortiGate multi-line
    quoted value, an XML element's content, and the section the line is in."""

    pem: bool = False
    cisco_certificate: bool = False
    quoted: bool = False
    xml_element: str = ""
    fortigate_sections: list[str] | None = None
    mikrotik_section: str = ""


def _redact_line(line: str, family: str, state: _State) -> tuple[str, int]:
    if state.xml_element:
        return _continue_xml(line, state)
    if state.quoted:
        return _continue_quoted(line, state)
    if state.pem:
        return _continue_pem(line, state)
    if state.cisco_certificate:
        if re.fullmatch(r"\s*quit\s*", line):
            state.cisco_certificate = False
            return line, 0
        return _mask_all(line), 1
    total = 0
    for handler in _HANDLERS[family]:
        line, replaced = handler(line, state)
        total += replaced
        if state.xml_element or state.quoted:
            return line, total
    line, replaced = _begin_pem(line, state)
    return line, total + replaced


# --- PEM blocks (every text format) -------------------------------------------------------------

_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]+-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]+-----")


def _begin_pem(line: str, state: _State) -> tuple[str, int]:
    begin = _PEM_BEGIN.search(line)
    if begin is None:
        return line, 0
    end = _PEM_END.search(line, begin.end())
    if end is not None:  # a whole block on one line (escaped newlines)
        return line[: begin.start()] + MASK + line[end.end() :], 1
    state.pem = True
    return line[: begin.start()] + MASK, 1


def _continue_pem(line: str, state: _State) -> tuple[str, int]:
    end = _PEM_END.search(line)
    if end is None:
        return _mask_all(line), 1
    state.pem = False
    return _indent(line) + MASK + line[end.end() :], 1


def _mask_all(line: str) -> str:
    return _indent(line) + MASK if line.strip() else line


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _replace_groups(
    line: str, matches: Iterator[re.Match[str]], group: str = "s"
) -> tuple[str, int]:
    """``line`` with the ``group`` span of each match replaced by the mask (quotes kept)."""
    return _replace_spans(line, [m.span(group) for m in matches if m.group(group) is not None])


def _replace_spans(line: str, found: list[tuple[int, int]]) -> tuple[str, int]:
    """``line`` with each span (a value) replaced by the mask; a quoted value stays quoted."""
    spans = sorted(set(found))
    out, last, count = [], 0, 0
    for start, end in spans:
        if start < last or line[start:end] in (MASK, f'"{MASK}"'):
            continue
        value = line[start:end]
        out.append(line[last:start])
        out.append(f'"{MASK}"' if value.startswith('"') and value.endswith('"') else MASK)
        last, count = end, count + 1
    out.append(line[last:])
    return "".join(out), count


# --- Cisco ASA and IOS --------------------------------------------------------------------------

_TYPE = r"(?:\s+[0-9])?"  # an encryption type: 0 clear, 5 MD5, 7, 8 PBKDF2, 9 scrypt
_CISCO_PATTERNS = (
    # username … password X [encrypted|pbkdf2], enable password X, passwd X, secret 9 X
    r"(?<![\w-])(?:password|passwd|secret)(?:\s+level\s+\d+)?" + _TYPE + r"\s+(?!(?:encryption|"
    r"policy|recovery|management|prompt|change|history|reuse|lifetime|minimum\S*|"
    r"expir\S*)\b)(?P<s>\S+)",
    # key / key-string (TACACS+, RADIUS, key chains, crypto isakmp key X address …)
    r"(?<![\w-])key(?:-string)?" + _TYPE + r"\s+(?!(?:generate|chain|config-key|zeroize|pubkey\S*|"
    r"import|export|rsa|ec|storage|exchange|ring|address|hostname)\b)(?P<s>\S+)",
    r"\bpre-shared-key" + _TYPE + r"\s+(?!(?:address|hostname|local|remote)\b)(?P<s>\S+)",
    r"(?<![\w-])community" + _TYPE + r"\s+(?P<s>\S+)",
    # IOS: snmp-server host ADDRESS [traps|informs] [version 1|2c|3 LEVEL] COMMUNITY
    r"^\s*snmp-server\s+host\s+\S*[.:]\S*(?!.*\bcommunity\b)(?:\s+(?:traps|informs))?"
    r"(?:\s+version\s+(?:1|2c|3\s+\S+))?\s+(?P<s>\S+)",
    r"\bauthentication-key(?:\s+\d+\s+md5)?" + _TYPE + r"\s+(?P<s>\S+)",
    r"\bmessage-digest-key\s+\d+\s+md5" + _TYPE + r"\s+(?P<s>\S+)",
    r"\bauth\s+(?:md5|sha\S*)\s+(?P<s>\S+)",
    r"\bpriv\s+(?:des|3des|aes(?:\s+\d+)?)\s+(?P<s>\S+)",
    r"\bldap-login-password\s+(?P<s>\S+)",
    r"\bpassword-encrypt\s+(?P<s>\S+)",
    r"\bwpa-psk\s+(?:ascii|hex)" + _TYPE + r"\s+(?P<s>\S+)",
)
# One pass over a line: the rules as one alternation (their secret groups s0, s1, …), tried only
# on lines holding one of these words (most lines of a configuration hold none).
_CISCO_ANY = re.compile(
    "|".join(f"(?:{p.replace('(?P<s>', f'(?P<s{n}>')})" for n, p in enumerate(_CISCO_PATTERNS)),
    re.IGNORECASE,
)
_CISCO_HINT = re.compile(r"pass|secret|key|communit|auth|priv|psk|snmp", re.IGNORECASE)
_CISCO_CERTIFICATE = re.compile(r"\s+certificate(?:\s+\S+)+\s*", re.IGNORECASE)


def _cisco(line: str, state: _State) -> tuple[str, int]:
    if _CISCO_CERTIFICATE.fullmatch(line):
        state.cisco_certificate = True  # hex lines follow, up to "quit"
        return line, 0
    if not _CISCO_HINT.search(line):
        return line, 0
    return _replace_spans(line, [m.span(m.lastgroup or 0) for m in _CISCO_ANY.finditer(line)])


# --- FortiGate ----------------------------------------------------------------------------------

_FORTIGATE_SET = re.compile(
    r"(?P<head>\s*set\s+(?:\S*(?:password|passwd|pwd|secret|psk|passphrase|private-key|api-key|"
    r"token|community)\S*|key)\s+)(?P<value>.*)$",
    re.IGNORECASE,
)
_FORTIGATE_SNMP_NAME = re.compile(r"(?P<head>\s*set\s+name\s+)(?P<value>.*)$")


def _fortigate(line: str, state: _State) -> tuple[str, int]:
    sections = state.fortigate_sections
    if sections is None:
        sections = state.fortigate_sections = []
    words = line.split()
    if words[:1] == ["config"]:
        sections.append(" ".join(words[1:]))
    elif words == ["end"] and sections:
        sections.pop()
    match = _FORTIGATE_SET.match(line)
    if match is None and sections and sections[-1] == "system snmp community":
        match = _FORTIGATE_SNMP_NAME.match(line)
    if match is None or not match.group("value").strip():
        return line, 0
    value = match.group("value")
    if _PEM_BEGIN.search(value) and value.count('"') % 2 == 1:
        state.quoted = True  # the value runs on over the next lines, up to its closing quote
        return match.group("head") + '"' + MASK, 1
    if value.startswith("ENC "):
        return match.group("head") + "ENC " + MASK, 1
    if value.startswith('"') and value.count('"') % 2 == 1:
        state.quoted = True
        return match.group("head") + '"' + MASK, 1
    if value.startswith('"'):
        return match.group("head") + f'"{MASK}"', 1
    return match.group("head") + MASK, 1


def _continue_quoted(line: str, state: _State) -> tuple[str, int]:
    close = line.find('"')
    if close < 0:
        return _mask_all(line), 1
    state.quoted = False
    return _indent(line) + MASK + line[close:], 1


# --- MikroTik -----------------------------------------------------------------------------------

_MIKROTIK_VALUE = r"(?P<s>\"(?:[^\"\\]|\\.)*\"|[^\s\"]+)"
_MIKROTIK_SETTING = re.compile(r"(?<![\w-])(?P<k>[\w-]+)=" + _MIKROTIK_VALUE)
_MIKROTIK_WORDS = (
    "password",
    "passwd",
    "secret",
    "passphrase",
    "pre-shared-key",
    "psk",
    "private-key",
    "auth-key",
    "authentication-key",
)


def _mikrotik(line: str, state: _State) -> tuple[str, int]:
    stripped = line.strip()
    if stripped.startswith("/"):
        state.mikrotik_section = " ".join(stripped.split()[:2])
    if "=" not in line:
        return line, 0
    community = state.mikrotik_section == "/snmp community"
    spans = []
    for match in _MIKROTIK_SETTING.finditer(line):
        name = match.group("k").lower()
        if any(word in name for word in _MIKROTIK_WORDS) or (community and name == "name"):
            spans.append(match.span("s"))
    return _replace_spans(line, spans)


# --- XML: pfSense, OPNsense, PAN-OS -------------------------------------------------------------

_XML_NAMES = frozenset(
    {
        "authorizedkeys",
        "bcrypt-hash",
        "bindpw",
        "community",
        "crt",
        "ipsecpsk",
        "key",
        "ldap_bindpw",
        "md5-hash",
        "nt-hash",
        "otp_seed",
        "phash",
        "pre-shared-key",
        "presharedkey",
        "private-key",
        "privatekey",
        "privkey",
        "prv",
        "psk",
        "radius_secret",
        "radius_secret2",
        "rocommunity",
        "rwcommunity",
        "sha512-hash",
        "shared_key",
        "shared_secret",
        "tls",
        "apikey",
        "api_key",
        "api-key",
    }
)
_XML_WORDS = ("password", "passwd", "secret", "passphrase", "psk", "community", "-hash", "_hash")
_XML_OPEN = re.compile(r"<(?P<name>[A-Za-z_][\w.:-]*)(?:\s[^<>]*?)?(?<!/)>")


def _is_secret_element(name: str) -> bool:
    local = name.rsplit(":", 1)[-1].lower()
    return local in _XML_NAMES or any(word in local for word in _XML_WORDS)


def _xml(line: str, state: _State) -> tuple[str, int]:
    out, position, total = [], 0, 0
    while True:
        match = _XML_OPEN.search(line, position)
        if match is None:
            break
        name = match.group("name")
        if not _is_secret_element(name):
            out.append(line[position : match.end()])
            position = match.end()
            continue
        close = line.find(f"</{name}>", match.end())
        out.append(line[position : match.end()])
        if close < 0:  # the content runs on over the next lines
            rest = line[match.end() :]
            out.append(MASK if rest.strip() else rest)
            state.xml_element = name
            return "".join(out), total + (1 if rest.strip() else 0)
        content = line[match.end() : close]
        if content.strip():
            out.append(MASK)
            total += 1
        position = close
    out.append(line[position:])
    return "".join(out), total


def _continue_xml(line: str, state: _State) -> tuple[str, int]:
    close = line.find(f"</{state.xml_element}>")
    if close < 0:
        return _mask_all(line), 1 if line.strip() else 0
    state.xml_element = ""
    before = line[:close]
    head = (_indent(before) + MASK) if before.strip() else before
    rest, more = _xml(line[close:], state)
    return head + rest, (1 if before.strip() else 0) + more


_Handler = Callable[[str, _State], tuple[str, int]]
_HANDLERS: dict[str, tuple[_Handler, ...]] = {
    "cisco": (_cisco,),
    "fortigate": (_fortigate,),
    "mikrotik": (_mikrotik,),
    "xml": (_xml,),
    "iptables": (),
    "nftables": (),
    "all": (_xml, _fortigate, _mikrotik, _cisco),
}
