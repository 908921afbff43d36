"""The real loaders accept what the iptables and nftables renderers write: every example site and
the variations that change the file's shape; a broken file is refused, so the check is not vacuous.
"""

from __future__ import annotations

import pytest

from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    EXAMPLE_NAMES,
    MONITORING,
    config_for,
    load_example,
    render,
)
from tests.sites.vendors.loader import check_with_loader

LOADERS = {
    "iptables": ["iptables-restore", "--test", "--noflush"],
    "nftables": ["nft", "-c", "-f"],
}
# One edit per vendor that the loader must refuse: a port out of range, a misspelt statement.
BREAKAGES = {
    "iptables": ("--dport 4401", "--dport 99999"),
    "nftables": ("masquerade", "masquerad"),
}
VARIANTS = {
    "any-source": {"monitoring_enabled": True},
    "dynamic-public": {**MONITORING, "public_address": None},
    "dhcp": {"host_addressing": "dhcp", "host_address": None},
    "range-two-sources": {
        **MONITORING,
        "host_addressing": "range",
        "host_range_start": "192.168.1.10",
        "host_range_end": "192.168.1.20",
        "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"],
    },
}


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
@pytest.mark.parametrize("slug", sorted(LOADERS))
def test_loader_accepts_every_example(slug, example, tmp_path):
    text = config_file(render(slug, load_example(example)))
    result = check_with_loader(LOADERS[slug], text, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("slug", sorted(LOADERS))
def test_loader_accepts_variants(slug, variant, tmp_path):
    result = check_with_loader(LOADERS[slug], config_for(slug, **VARIANTS[variant]), tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("slug", sorted(LOADERS))
def test_loader_rejects_a_broken_file(slug, tmp_path):
    old, new = BREAKAGES[slug]
    broken = config_for(slug).replace(old, new, 1)
    assert broken != config_for(slug)
    assert check_with_loader(LOADERS[slug], broken, tmp_path).returncode != 0
