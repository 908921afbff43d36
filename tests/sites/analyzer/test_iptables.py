"""The iptables-save parser on a realistic router (Docker's chains and a customer's own)."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from sites.analyzer.analyze import analyze
from sites.analyzer.flows import Flow
from sites.analyzer.iptables import parse_iptables
from sites.analyzer.model import ActionKind
from tests.sites.analyzer.configs import DOCKER_ROUTER, PROFILE, site


def chain(text: str, table: str, name: str):
    ruleset = parse_iptables(text)
    found = ruleset.table("ip", table)
    assert found is not None
    return found.chains[name]


def test_tables_chains_hooks_and_policies():
    ruleset = parse_iptables(DOCKER_ROUTER)
    forward = ruleset.table("ip", "filter").chains["FORWARD"]
    assert (forward.hook, forward.priority, forward.policy, forward.line) == (
        "forward",
        0,
        "drop",
        12,
    )
    prerouting = ruleset.table("ip", "nat").chains["PREROUTING"]
    assert (prerouting.hook, prerouting.type, prerouting.priority) == ("prerouting", "nat", -100)
    assert ruleset.table("ip", "filter").chains["DOCKER-USER"].hook is None
    assert [c.name for _, c in ruleset.base_chains("forward")] == ["FORWARD", "FORWARD"]


def test_rules_keep_their_lines_matches_and_actions():
    forward = chain(DOCKER_ROUTER, "filter", "FORWARD")
    first = forward.rules[0]
    assert (first.line, first.action.kind, first.action.chain) == (
        22,
        ActionKind.JUMP,
        "DOCKER-USER",
    )
    docker = forward.rules[4]
    assert docker.match.in_interface.names == ("docker0",) and docker.match.out_interface.negated
    lan_out = chain(DOCKER_ROUTER, "filter", "LAN-OUT").rules
    assert lan_out[0].match.destination_ports.ranges == ((80, 80), (443, 443))
    assert lan_out[0].comment == "web"
    assert lan_out[2].action.kind is ActionKind.REJECT
    dnat = chain(DOCKER_ROUTER, "nat", "DOCKER").rules[1]
    assert (dnat.action.kind, dnat.action.address, dnat.action.port) == (
        ActionKind.DNAT,
        IPv4Address("172.17.0.2"),
        80,
    )
    assert chain(DOCKER_ROUTER, "nat", "PREROUTING").rules[0].match.local_destination is True


def test_what_is_not_understood_is_listed_with_its_line():
    ruleset = parse_iptables(DOCKER_ROUTER)
    listed = {u.line: u for u in ruleset.unrecognised}
    assert set(listed) == {8, 30}  # --tcp-flags in mangle, -m limit before the LOG
    assert "--tcp-flags" in listed[8].reason and listed[8].could_affect == {"forward"}
    assert "-m limit" in listed[30].reason


def test_negations_ranges_and_insert_positions():
    text = (
        "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 1:1023 -j ACCEPT\n"
        "-I FORWARD 1 ! -s 10.0.0.0/8 -p udp -m udp ! --sport 53 -j DROP\n"
        "-I FORWARD -o ppp+ -j ACCEPT\nCOMMIT\n"
    )
    rules = chain(text, "filter", "FORWARD").rules
    assert [r.line for r in rules] == [5, 4, 3]
    assert rules[1].match.source.networks == (IPv4Network("10.0.0.0/8"),)
    assert rules[1].match.source.negated and rules[1].match.source_ports.negated
    assert rules[0].match.out_interface.prefixes == ("ppp",)
    assert rules[2].match.destination_ports.ranges == ((1, 1023),)


def test_iptables_commands_are_read_too():
    text = (
        "iptables -P FORWARD DROP\n"
        "iptables -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n"
        "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n"
        "iptables -A FORWARD -i eth1 -o eth0 -j ACCEPT\n"
    )
    analysis = analyze(text, "iptables", site(monitoring_enabled=False), PROFILE)
    first = analysis.results[0].verdict
    assert first.verdict == "allowed" and first.translated_source == "192.0.2.1"


def test_docker_router_verdicts():
    """Docker's chains pass the LAN's traffic on to LAN-OUT, which does not open 4401."""
    analysis = analyze(DOCKER_ROUTER, "iptables", site(), PROFILE)
    verdicts = {str(r.flow): r.verdict for r in analysis.results}
    out = verdicts["tcp:192.168.1.10->203.0.113.1:4401"]
    assert out.verdict == "blocked"
    assert [line.line for line in out.lines] == [12]  # the policy, after LAN-OUT returned
    assert verdicts["tcp:198.51.100.7->192.0.2.1:4403"].verdict == "blocked"
    assert analysis.missing_steps


def test_docker_router_allows_what_lan_out_opens():
    analysis = analyze(
        DOCKER_ROUTER,
        "iptables",
        site(),
        PROFILE,
        flows=[Flow.parse("tcp:192.168.1.10->203.0.113.10:443")],
    )
    verdict = analysis.results[0].verdict
    assert verdict.verdict == "allowed" and verdict.translated_source == "192.0.2.1"
    assert [line.line for line in verdict.lines] == [29, 37, 51, 28]
