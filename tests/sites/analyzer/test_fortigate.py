"""FortiGate: policies top-down with the implicit deny, VIPs (one protocol each) translated before
the policy lookup and matched only as a policy's destination, ``set nat enable``, disabled
policies, and the round trip through our own rendered configuration on a FortiGate 60F's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sites.analyzer.analyze import analyze
from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import ALLOWED, Flow, guide_flows
from sites.analyzer.fortigate import parse_fortigate
from sites.analyzer.model import ConfigError
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.analyzer.configs import site

BASE = Path("tests/sites/analyzer/data/fortigate/fgt60f.conf").read_text()
EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
OUT = Flow.parse("tcp:192.168.1.10->203.0.113.1:4401")
WEB = Flow.parse("tcp:192.168.1.20->203.0.113.80:443")
IN_TCP = Flow.parse("tcp:198.51.100.7->192.0.2.1:4403")
IN_UDP = Flow.parse("udp:198.51.100.7->192.0.2.1:4403")

VIP_TCP_ONLY = (
    BASE
    + """\
config firewall address
    edit "obm-host"
        set subnet 192.168.1.10 255.255.255.255
    next
end
config firewall service custom
    edit "obm-4403"
        set tcp-portrange 4403
        set udp-portrange 4403
    next
end
config firewall vip
    edit "obm-vip-4403"
        set extip 192.0.2.1
        set mappedip "192.168.1.10"
        set extintf "wan1"
        set portforward enable
        set extport 4403
        set mappedport 4403
    next
end
config firewall policy
    edit 7
        set name "monitoring-in"
        set srcintf "wan1"
        set dstintf "internal"
        set action accept
        set srcaddr "all"
        set dstaddr "obm-vip-4403"
        set schedule "always"
        set service "obm-4403"
    next
end
"""
)


def verdict(config: str, flow: Flow):
    topology = Topology.of_site(site(), inside="internal", outside="wan1")
    return evaluate(parse_fortigate(config), flow, topology)


def test_the_factory_policy_allows_web_with_nat_and_the_implicit_deny_the_rest():
    web = verdict(BASE, WEB)
    assert web.verdict == "allowed"
    assert web.translated_source == "192.0.2.1"
    assert [c.text for c in web.lines][:2] == ["edit 1", "set nat enable"]
    out = verdict(BASE, OUT)
    assert out.verdict == "blocked"
    assert out.lines[-1].text.startswith("(FortiGate: the implicit deny")


def test_a_vip_takes_one_protocol_tcp_only_leaves_udp_blocked():
    tcp = verdict(VIP_TCP_ONLY, IN_TCP)
    assert tcp.verdict == "allowed"
    assert tcp.translated_destination == "192.168.1.10:4403"
    assert verdict(VIP_TCP_ONLY, IN_UDP).verdict == "blocked"


def test_a_disabled_policy_does_nothing():
    disabled = VIP_TCP_ONLY.replace(
        'set service "obm-4403"', 'set service "obm-4403"\n        set status disable'
    )
    assert verdict(disabled, IN_TCP).verdict == "blocked"


def test_a_policy_naming_the_internal_address_does_not_match_vip_traffic():
    internal = VIP_TCP_ONLY.replace('set dstaddr "obm-vip-4403"', 'set dstaddr "obm-host"')
    assert verdict(internal, IN_TCP).verdict == "blocked"


def test_top_down_a_deny_above_wins_and_unknown_objects_decide_only_where_they_match():
    deny_first = BASE.replace(
        "config firewall policy\n",
        'config firewall policy\n    edit 9\n        set srcintf "internal"\n'
        '        set dstintf "wan1"\n        set srcaddr "all"\n        set dstaddr "all"\n'
        '        set service "HTTPS"\n        set schedule "always"\n        set action deny\n'
        "    next\n",
    )
    assert verdict(deny_first, WEB).verdict == "blocked"
    fqdn = BASE.replace('set dstaddr "all"', 'set dstaddr "cloud"').replace(
        "config firewall service custom",
        'config firewall address\n    edit "cloud"\n        set type fqdn\n'
        '        set fqdn "backup.example.com"\n    next\nend\nconfig firewall service custom',
    )
    assert verdict(fqdn, WEB).verdict == "unknown"
    assert verdict(fqdn, OUT).verdict == "blocked"  # its services never match 4401


def test_central_nat_is_not_analysed_and_makes_translated_flows_unknown():
    central = BASE.replace(
        "config system interface",
        "config system settings\n    set central-nat enable\nend\nconfig system interface",
    )
    assert verdict(central, WEB).verdict == "unknown"
    assert any("central NAT" in u.reason for u in parse_fortigate(central).unrecognised)


def example(path: Path) -> SiteDescription:
    """The example site on this vendor, its interfaces left blank: the vendor's default names."""
    blank = {"inside_interface": "", "outside_interface": ""}
    return SiteDescription.from_dict(json.loads(path.read_text()) | {"vendor": "fortigate"} | blank)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_configuration_on_the_base(path):
    site_obj = example(path)
    ours = config_file(
        render_site(site_obj, GUIDE_PROFILE, [get_renderer("fortigate")]).documents[0]
    )
    ours_from = len(BASE.splitlines()) + 1
    analysis = analyze(BASE + ours, "fortigate", site_obj, GUIDE_PROFILE)
    assert analysis.missing_steps == ()
    for guide_flow, result in zip(
        guide_flows(site_obj, GUIDE_PROFILE), analysis.results, strict=True
    ):
        found = result.verdict
        expected = "allowed" if guide_flow.expected == ALLOWED else "blocked"
        assert found.verdict == expected, (result.flow, found)
        if expected == "allowed":
            accepts = [c for c in found.lines if c.effect.startswith("accepts the new connection")]
            assert accepts and all(c.line >= ours_from for c in accepts), found.lines


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_the_base_alone_blocks_every_required_flow(path):
    site_obj = example(path)
    analysis = analyze(BASE, "fortigate", site_obj, GUIDE_PROFILE)
    required = zip(guide_flows(site_obj, GUIDE_PROFILE), analysis.results, strict=True)
    assert all(r.verdict.verdict == "blocked" for g, r in required if g.expected == ALLOWED)
    assert analysis.missing_steps


@pytest.mark.parametrize("data", [b"\x00\x01binary", b"\xff\xfe bad utf-8", b"x\n" * 100_001])
def test_hostile_input_is_a_clear_error(data):
    with pytest.raises(ConfigError):
        parse_fortigate(data)
