"""Cisco ASA (8.3+): the security levels, access lists bound to interfaces with their implicit
deny, object NAT (interface PAT, static PAT per protocol), and the round trip through our own
rendered commands on top of a factory-default configuration."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from sites.analyzer.analyze import analyze
from sites.analyzer.cisco_asa import parse_cisco_asa
from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import ALLOWED, Flow, guide_flows
from sites.analyzer.model import ConfigError
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.analyzer.configs import site

FACTORY = Path("tests/sites/analyzer/data/cisco-asa/factory-default.txt").read_text()
EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
OUT = Flow.parse("tcp:192.168.1.10->203.0.113.1:4401")
IN_TCP = Flow.parse("tcp:198.51.100.7->192.0.2.1:4403")
IN_UDP = Flow.parse("udp:198.51.100.7->192.0.2.1:4403")


def verdict(config: str, flow: Flow):
    topology = Topology.of_site(site(), inside="inside", outside="outside")
    return evaluate(parse_cisco_asa(config), flow, topology)


def line_of(config: str, text: str) -> int:
    return next(n for n, line in enumerate(config.splitlines(), 1) if line.strip() == text)


def test_no_acl_on_inside_the_security_levels_allow_outbound_with_pat():
    result = verdict(FACTORY, OUT)
    assert result.verdict == "allowed"
    assert result.translated_source == "192.0.2.1"
    cited = {c.line: c.effect for c in result.lines}
    assert cited[line_of(FACTORY, "security-level 100")] == "accepts the new connection"
    assert "masquerades" in cited[line_of(FACTORY, "nat (any,outside) dynamic interface")]


def test_lower_to_higher_is_denied_without_acl():
    assert verdict(FACTORY, IN_TCP).verdict == "blocked"
    static = FACTORY + (
        "object network web\n host 192.168.1.10\n"
        " nat (inside,outside) static interface service tcp 4403 4403\n"
    )
    result = verdict(static, IN_TCP)
    assert result.verdict == "blocked"
    assert result.lines[-1].text == "security-level 0"  # outside, lower than inside


ACL_WITHOUT_4401 = (
    FACTORY
    + """\
object-group network web-servers
 network-object host 203.0.113.80
object-group service web tcp
 port-object eq www
 port-object eq https
access-list inside_access_in extended permit tcp 192.168.1.0 255.255.255.0 object-group web-servers object-group web
access-list inside_access_in extended permit udp any any eq domain
access-group inside_access_in in interface inside
"""
)


def test_an_inside_acl_without_the_permit_ends_in_its_implicit_deny():
    result = verdict(ACL_WITHOUT_4401, OUT)
    assert result.verdict == "blocked"
    assert result.lines[-1].line == line_of(
        ACL_WITHOUT_4401, "access-group inside_access_in in interface inside"
    )
    web = verdict(ACL_WITHOUT_4401, Flow.parse("tcp:192.168.1.20->203.0.113.80:443"))
    assert web.verdict == "allowed"


def test_acl_order_first_match_and_inactive_entries():
    config = ACL_WITHOUT_4401.replace(
        "access-group inside_access_in",
        "access-list inside_access_in line 1 extended deny tcp host 192.168.1.10 any eq 4401 inactive\n"
        "access-list inside_access_in line 2 extended deny tcp host 192.168.1.10 any range 4400 4410\n"
        "access-list inside_access_in extended permit tcp any any eq 4401\n"
        "access-group inside_access_in",
    )
    result = verdict(config, OUT)
    assert result.verdict == "blocked"
    assert "range 4400 4410" in result.lines[-1].text  # inserted at line 2, above the permit
    assert verdict(config, Flow.parse("tcp:192.168.1.11->203.0.113.1:4401")).verdict == "allowed"


STATIC_TCP_ONLY = (
    FACTORY
    + """\
object network obm-host-tcp-4403
 host 192.168.1.10
 nat (inside,outside) static interface service tcp 4403 4403
access-list outside_access_in extended permit tcp host 198.51.100.7 host 192.168.1.10 eq 4403
access-list outside_access_in extended permit udp host 198.51.100.7 host 192.168.1.10 eq 4403
access-group outside_access_in in interface outside
"""
)


def test_static_pat_for_tcp_only_leaves_udp_blocked_and_acl_names_the_real_address():
    tcp = verdict(STATIC_TCP_ONLY, IN_TCP)
    assert tcp.verdict == "allowed"
    assert tcp.translated_destination == "192.168.1.10:4403"
    assert verdict(STATIC_TCP_ONLY, IN_UDP).verdict == "blocked"
    public = STATIC_TCP_ONLY.replace(
        "tcp host 198.51.100.7 host 192.168.1.10", "tcp host 198.51.100.7 host 192.0.2.1"
    )
    assert verdict(public, IN_TCP).verdict == "blocked"  # since 8.3: the real address


def test_twice_nat_and_fqdn_are_listed_and_unknown_only_where_they_decide():
    config = (
        FACTORY
        + """\
object network cloud
 fqdn backup.example.com
object network server
 host 192.168.1.50
object network server-public
 host 192.0.2.50
access-list inside_access_in extended deny tcp any object cloud eq 4401
access-list inside_access_in extended permit ip any any
access-group inside_access_in in interface inside
nat (inside,outside) source static server server-public destination static cloud cloud
"""
    )
    ruleset = parse_cisco_asa(config)
    reasons = {u.line: u.reason for u in ruleset.unrecognised}
    assert "twice NAT" in reasons[len(config.splitlines())]
    assert verdict(config, OUT).verdict == "unknown"
    udp = verdict(config, Flow.parse("udp:192.168.1.10->203.0.113.1:53"))
    assert udp.verdict == "allowed"
    server = verdict(config, Flow.parse("udp:192.168.1.50->203.0.113.1:53"))
    assert server.verdict == "unknown"  # the twice NAT could translate it


def example(path: Path) -> SiteDescription:
    """The example site on this vendor, its interfaces left blank: the vendor's default names."""
    blank = {"inside_interface": "", "outside_interface": ""}
    return SiteDescription.from_dict(json.loads(path.read_text()) | {"vendor": "cisco-asa"} | blank)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_commands_on_the_factory_default(path):
    """Our rendered commands pasted on the factory default: every flow the guide needs allowed,
    by our lines, and every refusal refused: an unlisted outside source, and another LAN host to
    the datacenter's backup port (the "keep the rest of the outbound traffic working" step puts
    a ``deny`` for it above its ``permit ip any any``)."""
    site_obj = example(path)
    ours = config_file(
        render_site(site_obj, GUIDE_PROFILE, [get_renderer("cisco-asa")]).documents[0]
    )
    ours_from = len(FACTORY.splitlines()) + 1
    analysis = analyze(FACTORY + ours, "cisco-asa", site_obj, GUIDE_PROFILE)
    assert analysis.unrecognised == ()
    for guide_flow, result in zip(
        guide_flows(site_obj, GUIDE_PROFILE), analysis.results, strict=True
    ):
        found = result.verdict
        if guide_flow.expected == ALLOWED:
            assert found.verdict == "allowed", (result.flow, found)
            accepts = [c for c in found.lines if c.effect == "accepts the new connection"]
            assert accepts and all(c.line >= ours_from for c in accepts), found.lines
        else:
            assert found.verdict == "blocked", (result.flow, found)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_the_factory_default_alone_blocks_what_needs_our_rules(path):
    site_obj = example(path)
    analysis = analyze(FACTORY, "cisco-asa", site_obj, GUIDE_PROFILE)
    inbound = [r for r in analysis.results if r.flow.source not in site_obj.lan_network]
    assert all(r.verdict.verdict == "blocked" for r in inbound)
    if site_obj.monitoring_enabled:
        assert any("static PAT" in step for step in analysis.missing_steps)


@pytest.mark.parametrize("data", [b"\x00\x01binary", b"\xff\xfe bad utf-8", b"x\n" * 100_001])
def test_hostile_input_is_a_clear_error(data):
    with pytest.raises(ConfigError):
        parse_cisco_asa(data)


def test_large_config_parses():
    acl = "".join(
        f"access-list big extended deny tcp host 10.{i // 250}.{i % 250}.1 any eq {i % 60000 + 1}\n"
        for i in range(20_000)
    )
    config = FACTORY + acl + "access-list big extended permit ip any any\n"
    config += "access-group big in interface inside\n"
    assert verdict(config, OUT).verdict == "allowed"


def test_command_line_uses_the_asa_interface_names_by_default(tmp_path):
    """monitoring.json names no interfaces: the command uses the ASA's inside and outside."""
    path = tmp_path / "running-config.txt"
    path.write_text(FACTORY)
    out = StringIO()
    call_command(
        "analyze", str(path), "--vendor", "cisco-asa", "--site", "docs/examples/monitoring.json",
        "--format", "json", stdout=out,
    )  # fmt: skip
    payload = json.loads(out.getvalue())
    assert payload["vendor"] == "cisco-asa"
    assert payload["flows"][0]["verdict"] == "allowed"
    assert payload["flows"][0]["lines"][0]["text"] == "security-level 100"
