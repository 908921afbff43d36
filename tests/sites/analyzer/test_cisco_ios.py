"""Cisco IOS / IOS-XE: inbound lists before NAT (the public address), no state (replies pass the
lists like any packet), NAT overload and static NAT per protocol, and the round trip through our
own rendered commands on top of a branch router with access lists on both interfaces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sites.analyzer.analyze import analyze
from sites.analyzer.cisco_ios import interface_name, interface_names, parse_cisco_ios
from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import ALLOWED, Flow, guide_flows
from sites.analyzer.model import ConfigError
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.vendors import get_renderer
from sites.vendors.formats import config_file
from tests.sites.analyzer.configs import site

ROUTER = Path("tests/sites/analyzer/data/cisco-ios/branch-router.txt").read_text()
EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
OUT = Flow.parse("tcp:192.168.1.10->203.0.113.1:4401")
IN_TCP = Flow.parse("tcp:198.51.100.7->192.0.2.1:4403")
IN_UDP = Flow.parse("udp:198.51.100.7->192.0.2.1:4403")

# The same router without access lists: a router forwards everything.
OPEN_ROUTER = "".join(line for line in ROUTER.splitlines(True) if "ip access-group" not in line)

FORWARDS = """\
ip nat inside source static tcp 192.168.1.10 4403 interface GigabitEthernet0/0 4403
ip nat inside source static udp 192.168.1.10 4403 interface GigabitEthernet0/0 4403
"""


def verdict(config: str, flow: Flow):
    topology = Topology.of_site(site(), inside="GigabitEthernet0/1", outside="GigabitEthernet0/0")
    return evaluate(parse_cisco_ios(config), flow, topology)


def test_interface_abbreviations():
    assert interface_name("Gi0/0") == "GigabitEthernet0/0"
    assert interface_name("fa0/1.10") == "FastEthernet0/1.10"
    assert interface_name("Dialer1") == "Dialer1"
    assert interface_names("GigabitEthernet0/0").matches("Gi0/0")
    shorts = Topology.of_site(site(), inside="Gi0/1", outside="gi0/0")
    assert evaluate(parse_cisco_ios(ROUTER), WEB_OUT, shorts).verdict == "allowed"


WEB_OUT = Flow.parse("tcp:192.168.1.20->203.0.113.80:443")


def test_a_long_list_is_parsed_in_linear_time():
    """10,000 entries given in reverse sequence order, each placed by its number."""
    entries = "".join(
        f" {i} deny tcp host 10.{i // 250}.{i % 250}.1 any eq 22\n" for i in range(10_100, 100, -1)
    )
    config = ROUTER.replace(" 40 deny   ip any any log\n", entries, 1)
    assert verdict(config, WEB_OUT).verdict == "allowed"
    assert verdict(config, OUT).lines[-1].text == "ip access-group INSIDE-IN in"


def test_a_router_without_lists_forwards_and_translates():
    result = verdict(OPEN_ROUTER, OUT)
    assert result.verdict == "allowed"
    assert result.translated_source == "192.0.2.1"
    forwarded = verdict(OPEN_ROUTER + FORWARDS, IN_UDP)
    assert forwarded.verdict == "allowed"
    assert forwarded.translated_destination == "192.168.1.10:4403"


def test_inside_list_without_the_permit_ends_in_its_implicit_deny():
    result = verdict(ROUTER, OUT)
    assert result.verdict == "blocked"
    assert result.lines[-1].text == "40 deny   ip any any log"
    no_deny = ROUTER.replace(" 40 deny   ip any any log\n", "")
    result = verdict(no_deny, OUT)
    assert result.verdict == "blocked"
    assert result.lines[-1].text == "ip access-group INSIDE-IN in"  # the implicit deny


def test_outside_list_names_the_public_address():
    public = (
        ROUTER
        + FORWARDS
        + (
            "ip access-list extended OUTSIDE-IN\n"
            " 1 permit tcp host 198.51.100.7 host 192.0.2.1 eq 4403\n"
        )
    )
    assert verdict(public, IN_TCP).verdict == "allowed"
    private = public.replace("host 192.0.2.1 eq 4403", "host 192.168.1.10 eq 4403")
    assert verdict(private, IN_TCP).verdict == "blocked"


def test_outside_list_without_established_drops_the_replies():
    ours = (
        ROUTER + "ip access-list extended INSIDE-IN\n 1 permit tcp host 192.168.1.10 any eq 4401\n"
    )
    assert verdict(ours, OUT).verdict == "allowed"
    stateless = ours.replace(" 10 permit tcp any any established\n", "")
    result = verdict(stateless, OUT)
    assert result.verdict == "blocked"
    assert "replies" in result.reason
    assert result.lines[-1].text == "40 deny   ip any any"


def test_static_nat_for_tcp_only_leaves_udp_unforwarded():
    tcp_only = OPEN_ROUTER + FORWARDS.splitlines()[0] + "\n"
    assert verdict(tcp_only, IN_TCP).verdict == "allowed"
    assert verdict(tcp_only, IN_UDP).verdict == "blocked"


def test_ip_inspect_and_zones_are_unknown_where_they_could_decide():
    inspected = ROUTER.replace(
        " ip access-group OUTSIDE-IN in\n", " ip access-group OUTSIDE-IN in\n ip inspect FW out\n"
    ).replace(" 10 permit tcp any any established\n", "")
    ours = (
        inspected
        + "ip access-list extended INSIDE-IN\n 1 permit tcp host 192.168.1.10 any eq 4401\n"
    )
    assert verdict(ours, OUT).verdict == "unknown"
    assert any("ip inspect" in u.reason for u in parse_cisco_ios(ours).unrecognised)
    zoned = (
        OPEN_ROUTER
        + "zone security INSIDE\nzone-pair security IN-OUT source INSIDE destination OUTSIDE\n"
    )
    assert verdict(zoned, OUT).verdict == "unknown"


def example(path: Path) -> SiteDescription:
    """The example site on this vendor, its interfaces left blank: the vendor's default names."""
    blank = {"inside_interface": "", "outside_interface": ""}
    return SiteDescription.from_dict(json.loads(path.read_text()) | {"vendor": "cisco-ios"} | blank)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_commands_on_a_branch_router(path):
    """Our rendered commands pasted on a router with lists on both interfaces: every required
    flow allowed by our lines, UDP 4403 in included: its replies from the host enter the LAN
    interface, whose stateless inbound list lets them through by our reply entries."""
    site_obj = example(path)
    ours = config_file(
        render_site(site_obj, GUIDE_PROFILE, [get_renderer("cisco-ios")]).documents[0]
    )
    ours_from = len(ROUTER.splitlines()) + 1
    analysis = analyze(ROUTER + ours, "cisco-ios", site_obj, GUIDE_PROFILE)
    assert analysis.unrecognised == ()
    for guide_flow, result in zip(
        guide_flows(site_obj, GUIDE_PROFILE), analysis.results, strict=True
    ):
        found = result.verdict
        if guide_flow.expected != ALLOWED:
            assert found.verdict == "blocked", (result.flow, found)
        else:
            assert found.verdict == "allowed", (result.flow, found)
            accepts = [c for c in found.lines if c.effect.startswith("accepts the new connection")]
            assert accepts and all(c.line >= ours_from for c in accepts), found.lines


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_the_router_alone_blocks_every_required_flow(path):
    site_obj = example(path)
    analysis = analyze(ROUTER, "cisco-ios", site_obj, GUIDE_PROFILE)
    required = zip(guide_flows(site_obj, GUIDE_PROFILE), analysis.results, strict=True)
    assert all(r.verdict.verdict == "blocked" for g, r in required if g.expected == ALLOWED)
    assert analysis.missing_steps


@pytest.mark.parametrize("data", [b"\x00\x01binary", b"\xff\xfe bad utf-8", b"x\n" * 100_001])
def test_hostile_input_is_a_clear_error(data):
    with pytest.raises(ConfigError):
        parse_cisco_ios(data)
