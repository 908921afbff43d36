"""The example site files of docs/examples, and a builder for variations, for renderer tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sites.description import GUIDE_PROFILE, ServiceProfile, SiteDescription
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.base import Rendered

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


def load_example(name: str) -> SiteDescription:
    return SiteDescription.from_dict(json.loads((EXAMPLES_DIR / f"{name}.json").read_text()))


def make_site(**overrides: Any) -> SiteDescription:
    """A valid site: the base above with ``overrides`` applied (a value of None drops a key)."""
    data = {**BASE_SITE, **overrides}
    return SiteDescription.from_dict({k: v for k, v in data.items() if v is not None})


def render(slug: str, site: SiteDescription, profile: ServiceProfile = GUIDE_PROFILE) -> Rendered:
    return get_renderer(slug).render(derive_rules(site, profile), site, profile)
