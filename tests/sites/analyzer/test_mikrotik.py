"""The RouterOS /export parser on the default configuration (defconf) and a customer's rules, and
the round trip through the portal's own pasteable commands."""

from __future__ import annotations

import json
from io import StringIO
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest
from django.core.management import call_command

from sites.analyzer.analyze import analyze
from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import ALLOWED, Flow, guide_flows
from sites.analyzer.mikrotik import parse_mikrotik
from sites.analyzer.model import ActionKind, ConfigError
from sites.description import GUIDE_PROFILE, SiteDescription
from sites.instructions import render_site
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.formats import config_file

DATA = Path(__file__).parent / "data" / "mikrotik"
DEFCONF = (DATA / "defconf.rsc").read_text()
EXAMPLES = sorted(Path("docs/examples").glob("*.json"))
# A customer who closed the forward chain: the LAN may browse and resolve, nothing else.
HARDENED = (
    DEFCONF
    + """\
/ip firewall address-list
add address=192.168.1.0/24 list=lan-nets
add address=192.168.1.50-192.168.1.51 list=printers
/ip firewall filter
add action=accept chain=forward comment="web out" dst-port=80,443 protocol=tcp \\
    src-address-list=lan-nets out-interface-list=WAN
add action=accept chain=forward comment="dns out" dst-port=53 protocol=udp \\
    in-interface-list=LAN
add action=accept chain=forward comment="old backup rule" dst-port=4401 protocol=tcp \\
    disabled=yes
add action=drop chain=forward comment="printers stay home" src-address-list=printers
add action=drop chain=forward comment="drop everything else"
"""
)
BACKUP = Flow("tcp", IPv4Address("192.168.1.10"), IPv4Address("203.0.113.1"), 4401)
WEB = Flow("tcp", IPv4Address("192.168.1.10"), IPv4Address("203.0.113.1"), 443)
PRINTER_WEB = Flow("tcp", IPv4Address("192.168.1.50"), IPv4Address("203.0.113.1"), 443)


def example(name: str) -> SiteDescription:
    return SiteDescription.from_dict(json.loads(Path(f"docs/examples/{name}.json").read_text()))


def topology() -> Topology:
    return Topology.of_site(example("monitoring"), inside="LAN", outside="WAN")


def line_of(text: str, needle: str) -> int:
    """The line of the command holding ``needle`` (where its first physical line is)."""
    lines = text.splitlines()
    found = next(n for n, line in enumerate(lines, 1) if needle in line)
    return next(n for n in range(found, 0, -1) if lines[n - 1].startswith("add "))


def test_defconf_sections_lists_and_continuations():
    ruleset = parse_mikrotik(DEFCONF)
    filter_table = ruleset.table("ip", "filter")
    forward = filter_table.chains["forward"]
    assert forward.hook == "forward" and forward.policy == "accept"
    fasttrack, established, invalid, wan = forward.rules[2:]
    assert fasttrack.action.kind is ActionKind.ACCEPT and fasttrack.action.detail == (
        "fasttrack-connection"
    )
    assert established.match.ct_state == {"established", "related", "untracked"}
    assert established.line == line_of(DEFCONF, "defconf: accept established,related, untracked")
    assert established.comment == "defconf: accept established,related, untracked"
    assert invalid.action.kind is ActionKind.DROP
    assert wan.match.ct_status == {"dnat"} and wan.match.ct_status_negated
    assert wan.match.in_interface.names == ("WAN", "ether1")
    masquerade = ruleset.table("ip", "nat").chains["srcnat"].rules[0]
    assert masquerade.action.kind is ActionKind.MASQUERADE
    assert ruleset.table("ip", "nat").chains["srcnat"].hook == "postrouting"
    assert ruleset.unrecognised == []  # IPv6 sections are not analysed, not "not understood"


def test_address_lists_ranges_negations_and_disabled_rules():
    forward = parse_mikrotik(HARDENED).table("ip", "filter").chains["forward"]
    web, dns, printers, drop_all = forward.rules[-4:]
    assert web.match.destination_ports.ranges == ((80, 80), (443, 443))
    assert web.match.source.networks == (IPv4Network("192.168.1.0/24"),)
    assert printers.match.source.networks == (IPv4Network("192.168.1.50/31"),)
    assert dns.match.in_interface.names == ("LAN", "bridge")
    assert "old backup rule" not in [r.comment for r in forward.rules]  # disabled=yes
    assert drop_all.match.source is None and drop_all.action.kind is ActionKind.DROP


def test_the_default_configuration_lets_the_lan_out_masqueraded_and_nothing_in():
    """defconf's forward chain accepts what it does not drop: the LAN gets out, masqueraded, and
    the fasttrack rule (an accept for the connections it marks) carries the replies."""
    ruleset = parse_mikrotik(DEFCONF)
    verdict = evaluate(ruleset, BACKUP, topology())
    assert verdict.verdict == "allowed" and verdict.translated_source == "192.0.2.1"
    fasttrack = line_of(DEFCONF, "defconf: fasttrack")
    assert any(c.line == fasttrack and "replies" in c.effect for c in verdict.lines)
    inbound = Flow("tcp", IPv4Address("198.51.100.7"), IPv4Address("192.168.1.10"), 4403)
    blocked = evaluate(ruleset, inbound, topology())
    assert blocked.verdict == "blocked"
    assert blocked.lines[-1].line == line_of(DEFCONF, "drop all from WAN not DSTNATed")


def test_fasttrack_trap_a_closed_forward_chain_still_carries_replies():
    """A customer's final drop sits below the fasttrack and the established accept: the backup
    connection's first packet meets the drop, its replies never do."""
    ruleset = parse_mikrotik(HARDENED)
    blocked = evaluate(ruleset, BACKUP, topology())
    assert blocked.verdict == "blocked"
    assert blocked.lines[-1].line == line_of(HARDENED, 'comment="drop everything else"')
    allowed = evaluate(ruleset, WEB, topology())
    assert allowed.verdict == "allowed"
    assert evaluate(ruleset, PRINTER_WEB, topology()).verdict == "allowed"  # web out comes first
    without_state = HARDENED.replace(
        'comment="defconf: fasttrack"', 'comment="defconf: fasttrack" disabled=yes'
    ).replace(
        "connection-state=\\\n    established,related,untracked\nadd action=drop chain=for",
        "connection-state=\\\n    established,related,untracked disabled=yes\nadd action=drop chain=for",
    )
    replies_dropped = evaluate(parse_mikrotik(without_state), WEB, topology())
    assert replies_dropped.verdict == "blocked"
    assert "replies are not" in replies_dropped.reason


def test_a_site_interface_name_matches_the_list_it_belongs_to():
    """The site may name the interface (ether1) where the rules name its list (WAN)."""
    ruleset = parse_mikrotik(DEFCONF)
    named = Topology.of_site(example("monitoring"), inside="bridge", outside="ether1")
    assert evaluate(ruleset, BACKUP, named).translated_source == "192.0.2.1"


def rendered_export(site: SiteDescription, baseline: str) -> str:
    """The baseline with the rendered commands pasted at its end, as a terminal would take them
    (``place-before=[…]`` puts a rule above the first static rule of its chain)."""
    document = render_site(site, GUIDE_PROFILE, [get_renderer("mikrotik")]).documents[0]
    return baseline + config_file(document)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_our_commands_on_a_closed_forward_chain_decide_every_flow(path):
    site = SiteDescription.from_dict(json.loads(path.read_text()))
    ours_from = len(HARDENED.splitlines()) + 1
    analysis = analyze(rendered_export(site, HARDENED), "mikrotik", site, GUIDE_PROFILE)
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        verdict = result.verdict
        expected = "allowed" if guide_flow.expected == ALLOWED else "blocked"
        assert verdict.verdict == expected, (result.flow, verdict)
        if expected == "allowed":
            accepts = [c for c in verdict.lines if c.effect.startswith("accepts the new")]
            assert accepts and all(c.line >= ours_from for c in accepts), verdict.lines
    assert analysis.missing_steps == ()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_round_trip_on_defconf_the_other_lan_hosts_still_get_out(path):
    """defconf accepts all forwarded LAN traffic and our commands only add accepts: the backup
    flows are ours, but "only the backup host" needs a drop the instructions do not give, so the
    outbound step stays missing where the host is restricted."""
    site = SiteDescription.from_dict(json.loads(path.read_text()))
    analysis = analyze(rendered_export(site, DEFCONF), "mikrotik", site, GUIDE_PROFILE)
    restricted = False
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        if guide_flow.expected == ALLOWED:
            assert result.verdict.verdict == "allowed", (result.flow, result.verdict)
        elif result.flow.destination_port == 4401 and result.flow.source in site.lan_network:
            restricted = True
            assert result.verdict.verdict == "allowed"
        else:
            assert result.verdict.verdict == "blocked"
    steps = [
        s.title
        for s in render_site(site, GUIDE_PROFILE, [get_renderer("mikrotik")]).documents[0].steps
        if s.kind is StepKind.CHANGE
    ]
    assert list(analysis.missing_steps) == (steps[:1] if restricted else [])


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_closed_baseline_alone_needs_every_step(path):
    site = SiteDescription.from_dict(json.loads(path.read_text()))
    analysis = analyze(HARDENED, "mikrotik", site, GUIDE_PROFILE)
    for guide_flow, result in zip(guide_flows(site, GUIDE_PROFILE), analysis.results, strict=True):
        if guide_flow.expected == ALLOWED:
            assert result.verdict.verdict == "blocked", result.flow
    document = render_site(site, GUIDE_PROFILE, [get_renderer("mikrotik")]).documents[0]
    assert list(analysis.missing_steps) == [
        s.title for s in document.steps if s.kind is StepKind.CHANGE
    ]


def test_what_is_not_understood_is_listed_and_only_matters_when_it_could():
    text = DEFCONF + (
        "/ip firewall filter\n"
        "add action=drop chain=forward connection-limit=100,32 protocol=tcp\n"
        "add action=drop chain=forward protocol=udp src-address-list=blocked-by-dns\n"
        "/ip firewall address-list\nadd address=evil.example.com list=blocked-by-dns\n"
        "/ip firewall mangle\nadd action=mark-connection chain=forward new-connection-mark=x\n"
        "/ip firewall filter\nset [ find comment=x ] disabled=yes\n"
    )
    ruleset = parse_mikrotik(text)
    reasons = {u.line - len(DEFCONF.splitlines()): u for u in ruleset.unrecognised}
    assert set(reasons) == {2, 3, 7, 9}
    assert "connection-limit" in reasons[2].reason and reasons[2].could_affect == {"forward"}
    assert "evil.example.com" in reasons[3].reason
    assert reasons[7].could_affect == frozenset()  # mangle cannot drop
    tcp = evaluate(ruleset, BACKUP, topology())
    assert tcp.verdict == "unknown"  # the connection limit could drop it
    udp = Flow("udp", IPv4Address("192.168.1.10"), IPv4Address("203.0.113.1"), 4403)
    assert evaluate(ruleset, udp, topology()).verdict == "unknown"


def test_nat_ranges_are_not_guessed():
    text = DEFCONF + (
        "/ip firewall nat\nadd action=dst-nat chain=dstnat dst-port=4403 protocol=tcp "
        "to-addresses=192.168.1.10-192.168.1.20 in-interface=ether1\n"
    )
    ruleset = parse_mikrotik(text)
    assert ruleset.unrecognised[0].line == len(text.splitlines())
    flow = Flow("tcp", IPv4Address("198.51.100.7"), IPv4Address("192.0.2.1"), 4403)
    assert evaluate(ruleset, flow, topology()).verdict == "unknown"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("/interface bridge\nadd name=bridge\n", "not a RouterOS /export"),
        (b"\x00\x01binary", "binary"),
        (b"/ip firewall filter\nadd chain=forward comment=\xff\n", "not UTF-8"),
        ("/ip firewall filter\n" + "add chain=forward action=accept\n" * 100_001, "lines"),
    ],
)
def test_hostile_or_wrong_input_is_a_clear_error(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_mikrotik(data)


def test_the_command_reads_an_export_with_the_default_lists():
    """`manage.py analyze --vendor mikrotik` with a site that leaves the interfaces blank."""
    out = StringIO()
    call_command(
        "analyze",
        str(DATA / "defconf.rsc"),
        "--vendor",
        "mikrotik",
        "--site",
        "docs/examples/monitoring.json",
        "--format",
        "json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    assert payload["vendor"] == "mikrotik"
    assert payload["flows"][0]["translated_source"] == "192.0.2.1"


def test_ipsec_policy_rules_never_match_plain_flows_whatever_the_order():
    text = DEFCONF.replace(
        "ipsec-policy=in,ipsec", "ipsec-policy=in,ipsec src-address=192.168.1.0/24 action=drop", 1
    )
    rule = parse_mikrotik(text).table("ip", "filter").chains["forward"].rules[0]
    assert rule.match.source.networks == ()
    assert evaluate(parse_mikrotik(text), BACKUP, topology()).verdict == "allowed"
