"""`manage.py analyze`: the site file, the flows, both formats and the errors."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.sites.analyzer.configs import DISTRO_NFT

SITE = "docs/examples/monitoring.json"


def run(*args) -> str:
    out = StringIO()
    call_command("analyze", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "ruleset.nft"
    path.write_text(DISTRO_NFT.replace('"eth1"', '"lan0"').replace('"eth0"', '"wan0"'))
    return str(path)


def test_json_for_the_flows_asked_in_order(config):
    payload = json.loads(
        run(
            config,
            "--vendor",
            "nftables",
            "--site",
            SITE,
            "--flow",
            "udp:198.51.100.7->192.0.2.1:4403",
            "--flow",
            "tcp:192.168.1.10->203.0.113.10:443",
            "--format",
            "json",
        )
    )
    assert [(f["flow"], f["verdict"]) for f in payload["flows"]] == [
        ("udp:198.51.100.7->192.0.2.1:4403", "blocked"),
        ("tcp:192.168.1.10->203.0.113.10:443", "allowed"),
    ]
    assert payload["flows"][1]["translated_source"] == "192.0.2.1"
    assert payload["missing_steps"]


def test_text_for_the_guides_flows(config):
    out = run(config, "--vendor", "nftables", "--site", SITE)
    assert "tcp:192.168.1.10->203.0.113.1:4401  BLOCKED" in out
    assert "must be allowed: backup host → datacenter" in out
    assert "line 15: type filter hook forward priority filter; policy drop;" in out
    assert "missing steps:" in out


def test_interfaces_can_be_given(config, tmp_path):
    path = tmp_path / "eth.nft"
    path.write_text(DISTRO_NFT)
    out = run(
        str(path),
        "--vendor",
        "nftables",
        "--site",
        SITE,
        "--flow",
        "tcp:192.168.1.10->203.0.113.10:443",
        "--inside-interface",
        "eth1",
        "--outside-interface",
        "eth0",
    )
    assert "ALLOWED" in out


def test_unsupported_vendor_exits_2_listing_the_supported(config):
    with pytest.raises(CommandError, match="supported: .*iptables, .*nftables") as error:
        run(config, "--vendor", "no-such-vendor", "--site", SITE)
    assert error.value.returncode == 2


def test_errors_are_clear(config, tmp_path):
    with pytest.raises(CommandError, match="expected PROTO:SRC->DST:PORT"):
        run(config, "--vendor", "nftables", "--site", SITE, "--flow", "tcp:1.2.3.4")
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing"), "--vendor", "nftables", "--site", SITE)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(CommandError, match="binary"):
        run(str(binary), "--vendor", "iptables", "--site", SITE)
