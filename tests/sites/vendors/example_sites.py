"""The example site files of docs/examples, a builder for variations, and the helpers the
renderer tests share: common variations (``MONITORING``, ``RANGE``, ``DHCP``), rendering a
variation for one vendor, and picking lines and steps out of the result."""

from __future__ import annotations

import dataclasses
import json
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

from sites.description import GUIDE_PROFILE, ProfileSpec, SiteDescription
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.base import Rendered, Step
from sites.vendors.formats import config_file

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "docs" / "examples"
EXAMPLE_NAMES = ("static-host", "dhcp-host", "range-hosts", "monitoring", "multihomed-windows")

BASE_SITE: dict[str, Any] = {
    "name": "Test site",
    "vendor": "generic",
    "lan_network": "192.168.1.0/24",
    "lan_gateway": "192.168.1.1",
    "host_addressing": "static",
    "host_address": "192.168.1.10",
}

# Variations of BASE_SITE, for make_site(**…) and render_for(slug, **…).
MONITORING: dict[str, Any] = {
    "monitoring_enabled": True,
    "monitoring_sources": ["198.51.100.7/32"],
    "public_address": "192.0.2.1",
}
RANGE: dict[str, Any] = {
    "host_addressing": "range",
    "host_address": None,
    "host_range_start": "192.168.1.10",
    "host_range_end": "192.168.1.20",
}
DHCP: dict[str, Any] = {"host_addressing": "dhcp", "host_address": None}

# The guide's profile as a portal serves it (``ProfileSpec``): its probe responder inside the
# datacenter network, its inbound checks from an address of its own, outside every monitoring
# source above: the golden files and the all-vendor promises about probe addressing use it; a
# vendor's own tests keep the guide's profile, whose restricted monitoring has one source.
RESPONDER = IPv4Address("203.0.113.10")
CHECK_SOURCE = IPv4Address("198.51.100.200")
PORTAL_PROFILE = dataclasses.replace(
    GUIDE_PROFILE, probe_responder=RESPONDER, probe_check_source=CHECK_SOURCE
)


def load_example(name: str) -> SiteDescription:
    return SiteDescription.from_dict(json.loads((EXAMPLES_DIR / f"{name}.json").read_text()))


def make_site(**overrides: Any) -> SiteDescription:
    """A valid site: the base above with ``overrides`` applied (a value of None drops a key)."""
    data = {**BASE_SITE, **overrides}
    return SiteDescription.from_dict({k: v for k, v in data.items() if v is not None})


def render(slug: str, site: SiteDescription, profile: ProfileSpec = GUIDE_PROFILE) -> Rendered:
    return get_renderer(slug).render(derive_rules(site, profile), site, profile)


def render_for(slug: str, profile: ProfileSpec = GUIDE_PROFILE, **overrides: Any) -> Rendered:
    """``slug``'s instructions for ``make_site(vendor=slug, **overrides)``."""
    return render(slug, make_site(vendor=slug, **overrides), profile)


def config_for(slug: str, **overrides: Any) -> str:
    """The configuration file (``config_file``) of ``render_for(slug, **overrides)``."""
    return config_file(render_for(slug, **overrides))


def lines_starting(text: str, start: str, *, strip: bool = False) -> list[str]:
    """The lines of ``text`` that begin with ``start``; with ``strip``, their indentation and
    trailing blanks are ignored and removed."""
    if strip:
        return [line.strip() for line in text.splitlines() if line.strip().startswith(start)]
    return [line for line in text.splitlines() if line.startswith(start)]


def step_titled(rendered: Rendered, title_start: str) -> Step:
    """The first step whose title begins with ``title_start``."""
    return next(s for s in rendered.steps if s.title.startswith(title_start))
