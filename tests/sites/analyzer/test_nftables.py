"""The nftables parser (list output, nft -f files, JSON) and what only nftables has: several base
chains at one hook, priorities, named and anonymous sets, ``ct status dnat``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sites.analyzer.evaluate import Topology, evaluate
from sites.analyzer.flows import Flow
from sites.analyzer.model import ActionKind
from sites.analyzer.nftables import parse_nftables
from tests.sites.analyzer.configs import DISTRO_NFT, site

DATA = Path(__file__).with_name("data")
FLOWS = [
    "tcp:192.168.1.10->203.0.113.10:4401",
    "udp:192.168.1.10->198.51.100.1:4403",
    "tcp:192.168.1.11->198.51.100.1:8080",
    "tcp:192.168.1.12->198.51.100.1:8080",
    "tcp:198.51.100.7->192.0.2.1:4403",
    "udp:198.51.100.7->192.0.2.1:4403",
]


def verdict(text: str, flow: str):
    return evaluate(parse_nftables(text), Flow.parse(flow), Topology.of_site(site()))


def test_distro_config_tables_chains_and_sets():
    ruleset = parse_nftables(DISTRO_NFT)
    assert [(t.family, t.name) for t in ruleset.tables] == [("inet", "filter"), ("ip", "nat")]
    forward = ruleset.table("inet", "filter").chains["forward"]
    assert (forward.hook, forward.priority, forward.policy, forward.line) == (
        "forward",
        0,
        "drop",
        15,
    )
    browsing = forward.rules[2]
    assert browsing.match.destination_ports.ranges == ((80, 80), (443, 443), (8000, 8100))
    assert browsing.comment == "browsing" and browsing.match.protocols == {"tcp"}
    assert forward.rules[0].match.ct_state == {"established", "related"}
    postrouting = ruleset.table("ip", "nat").chains["postrouting"]
    assert (postrouting.type, postrouting.priority) == ("nat", 100)
    assert postrouting.rules[0].action.kind is ActionKind.MASQUERADE
    # The ip6 table is listed, not analysed, and cannot affect IPv4.
    (ip6,) = ruleset.unrecognised
    assert ip6.line == 31 and "IPv6" in ip6.reason and not ip6.could_affect


def test_distro_config_verdicts():
    assert verdict(DISTRO_NFT, "tcp:192.168.1.10->203.0.113.10:443").verdict == "allowed"
    blocked = verdict(DISTRO_NFT, "tcp:192.168.1.10->203.0.113.10:4401")
    assert blocked.verdict == "blocked" and [c.line for c in blocked.lines] == [15]


def test_text_and_json_give_the_same_answers():
    text = parse_nftables((DATA / "forward.nft").read_text())
    document = parse_nftables((DATA / "forward.json").read_text())
    topology = Topology.of_site(site())
    for flow in map(Flow.parse, FLOWS):
        a, b = evaluate(text, flow, topology), evaluate(document, flow, topology)
        assert (a.verdict, a.translated_source, a.translated_destination) == (
            b.verdict,
            b.translated_source,
            b.translated_destination,
        ), flow
    assert [evaluate(text, Flow.parse(f), topology).verdict for f in FLOWS] == [
        "allowed",
        "allowed",
        "allowed",  # .11 is in @lan_hosts, 8080 in @web_ports
        "blocked",
        "allowed",
        "blocked",  # no port-forward for UDP
    ]


def test_json_lines_are_the_objects_positions_and_read_like_nft():
    ruleset = parse_nftables((DATA / "forward.json").read_text())
    rule = ruleset.table("inet", "filter").chains["forward"].rules[2]
    assert rule.line == 8
    assert rule.text.startswith("iifname eth1 oifname eth* ip daddr { 198.51.100.0/24, ")


def test_an_accept_in_one_base_chain_does_not_override_a_drop_in_another():
    text = """\
table inet a {
	chain forward {
		type filter hook forward priority -10; policy accept;
		accept
	}
}
table inet b {
	chain forward {
		type filter hook forward priority 10; policy drop;
		tcp dport 4401 drop
	}
}
"""
    result = verdict(text, "tcp:192.168.1.10->203.0.113.10:4401")
    assert result.verdict == "blocked"
    assert [(c.line, c.effect) for c in result.lines] == [
        (4, "accepts the new connection"),
        (10, "drops the new connection"),
    ]
    # Priority decides the order, not the order in the file.
    assert [c.line for c in verdict(text.replace("-10", "20"), FLOWS[0]).lines] == [10]


def test_jump_goto_return_and_an_fnft_file_with_insert():
    text = """\
flush ruleset
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "eth1" goto lan
	}
	chain lan {
		ct state established,related accept
		tcp dport 4401 jump backup
		return
	}
	chain backup {
		ip daddr 203.0.113.0/24 accept
	}
}
insert rule inet filter forward ct state established,related accept
"""
    result = verdict(text, FLOWS[0])
    assert result.verdict == "allowed"
    assert [c.line for c in result.lines] == [5, 9, 13, 16]


def test_ct_status_dnat_and_dnat_forms():
    text = """\
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "eth0" oifname "eth1" ct status dnat accept
	}
}
table inet nat {
	chain prerouting {
		type nat hook prerouting priority dstnat;
		iifname "eth0" ip daddr 192.0.2.1 meta l4proto { tcp, udp } th dport 4403 dnat ip to 192.168.1.10:4403
	}
}
"""
    for flow in ("tcp:198.51.100.7->192.0.2.1:4403", "udp:198.51.100.7->192.0.2.1:4403"):
        result = verdict(text, flow)
        assert result.verdict == "allowed" and result.translated_destination == (
            "192.168.1.10:4403"
        )
    assert verdict(text, "tcp:198.51.100.7->192.168.1.10:4403").verdict == "blocked"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("ip saddr != 192.168.1.0/24 drop", "blocked"),  # the replies
        ("ip saddr != 192.168.1.0/24 ip daddr != 192.168.1.0/24 drop", "allowed"),
        ("ip6 saddr ::1 drop", "allowed"),
        ("meta nfproto ipv6 drop", "allowed"),
        ("ip daddr 203.0.113.1-203.0.113.20 drop", "blocked"),
        ("tcp dport { 22, 4400-4402 } drop", "blocked"),
        ("ip saddr @blocklist drop", "unknown"),
        ("tcp flags & (syn|ack) == syn drop", "unknown"),
        ("udp dport 4401 drop", "allowed"),
        ('oifname != "eth0" drop', "blocked"),  # the replies leave by eth1
        ('iifname "eth0" oifname != "eth1" drop', "allowed"),
        ("fib daddr type local drop", "allowed"),
        ("tcp dport 4401 reject with tcp reset", "blocked"),
        ("meta l4proto udp reject with icmpx type port-unreachable", "allowed"),
        ('log prefix "accept" level info drop', "blocked"),
    ],
)
def test_matches(rule, expected):
    text = f"""\
table inet filter {{
	set blocklist {{
		type ipv4_addr
		flags dynamic,timeout
	}}
	chain forward {{
		type filter hook forward priority filter; policy accept;
		{rule}
	}}
}}
"""
    assert verdict(text, FLOWS[0]).verdict == expected


def test_not_understood_lines_are_listed():
    text = "define LAN = 192.168.1.0/24\ntable inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n\t\tip saddr $LAN limit rate 10/second accept\n\t}\n}\ntable netdev edge {\n}\n"
    listed = {u.line: u for u in parse_nftables(text).unrecognised}
    assert set(listed) == {1, 5, 8}
    assert listed[5].could_affect == {"forward"} and listed[8].could_affect


def test_malformed_input_gives_an_answer_not_a_crash():
    text = (
        "table inet filter {\n\tset loop {\n\t\ttype inet_service\n\t\telements = { @loop }\n\t}\n"
        "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t\ttcp dport @loop drop\n\t\t} } }\n\t\tjump nowhere\n"
    )
    result = verdict(text, FLOWS[0])
    assert result.verdict == "unknown" and [c.line for c in result.lines] == [8, 10]


@pytest.mark.parametrize(
    ("written", "priority"),
    [("filter - 10", -10), ("filter + 10", 10), ("-10", -10), ("dstnat - 5", -105), ("raw", -300)],
)
def test_priorities_as_nft_lists_them(written, priority):
    """``nft list ruleset`` prints a priority near a named one relative to it
    ("priority filter - 10"): the sign belongs to the number after it."""
    ruleset = parse_nftables(
        f"table ip t {{\n\tchain c {{\n\t\ttype filter hook forward priority {written}; "
        "policy accept;\n\t}\n}\n"
    )
    assert ruleset.tables[0].chains["c"].priority == priority
