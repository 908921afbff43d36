"""The probe agent's key: what lets the backup host re-verify a site without anyone at the page.

A site may have one agent key (docs/probe-protocol.md, "The probe agent"). With it, the client on
the backup host, run every hour by cron or Task Scheduler, asks the portal whether the site is
due for re-verification and, when it is, gets a fresh outbound run to prove. The key is derived
from the portal's probe key, the site and a version, so nothing secret is stored; a new key (the
next version) revokes the one before.

    key: obmk.<site_id>.<version>.<mac>      mac: HMAC-SHA256(probe key, "agent|<site_id>|<version>")

The MAC is the first 16 bytes, base64url without padding (22 characters), as in the tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PREFIX = "obmk"
_KEY = re.compile(rf"{PREFIX}\.([1-9][0-9]{{0,18}})\.([1-9][0-9]{{0,9}})\.([A-Za-z0-9_-]{{22}})\Z")


def _mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def agent_key(secret: bytes, site_id: int, version: int) -> str:
    """The agent key of a site at a key version (version 0 means "no agent": never a key)."""
    if version < 1:
        raise ValueError("an agent key version starts at 1")
    return f"{PREFIX}.{site_id}.{version}.{_mac(secret, f'agent|{site_id}|{version}')}"


@dataclass(frozen=True)
class AgentKey:
    site_id: int
    version: int


def read_agent_key(secret: bytes, key: object) -> AgentKey | None:
    """The site and version a genuine key names; None for anything else (altered, not a key)."""
    if not isinstance(key, str):
        return None
    match = _KEY.match(key.strip())
    if match is None:
        return None
    site_id, version = int(match[1]), int(match[2])
    if not hmac.compare_digest(match[3], _mac(secret, f"agent|{site_id}|{version}")):
        return None
    return AgentKey(site_id, version)
