"""The evaluator against every feature it models, on small iptables rulesets (the path is the
same for nftables: test_nftables.py checks what only nftables has)."""

from __future__ import annotations

from sites.analyzer.evaluate import Topology, Verdict, evaluate
from sites.analyzer.flows import Flow
from sites.analyzer.iptables import parse_iptables
from tests.sites.analyzer.configs import site

OUT = "tcp:192.168.1.10->203.0.113.10:4401"
IN = "tcp:198.51.100.7->192.0.2.1:4403"
STATEFUL = "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
FORWARD_IN = "-A PREROUTING -i eth0 -d 192.0.2.1 -p {p} --dport 4403 -j DNAT --to-destination {to}"


def check(filter_rules: str = "", nat_rules: str = "", *, flow: str = OUT, policy: str = "DROP"):
    text = (
        f"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD {policy} [0:0]\n:OUTPUT ACCEPT [0:0]\n"
        f"{filter_rules}\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
        f"{nat_rules}\nCOMMIT\n"
    )
    return evaluate(parse_iptables(text), Flow.parse(flow), Topology.of_site(site()))


def cited(verdict: Verdict) -> list[int]:
    return [line.line for line in verdict.lines]


def test_policy_drop_blocks_and_is_cited():
    verdict = check()
    assert verdict.verdict == "blocked"
    assert cited(verdict) == [3] and "policy drops the new connection" in verdict.lines[0].effect


def test_policy_accept_allows_everything():
    verdict = check(policy="ACCEPT")
    assert verdict.verdict == "allowed" and cited(verdict) == [3]
    assert verdict.translated_source is None


def test_an_accept_without_a_stateful_rule_lets_out_but_not_back():
    verdict = check("-A FORWARD -i eth1 -o eth0 -p tcp --dport 4401 -j ACCEPT")
    assert verdict.verdict == "blocked"
    assert "replies" in verdict.reason


def test_stateful_accept_lets_the_replies_back():
    rules = f"{STATEFUL}\n-A FORWARD -i eth1 -o eth0 -p tcp --dport 4401 -j ACCEPT"
    verdict = check(rules)
    assert verdict.verdict == "allowed"
    assert {line.line: line.effect for line in verdict.lines} == {
        6: "accepts the new connection",
        5: "accepts the replies; accepts the connection's later packets",
    }


def test_only_new_then_established_for_the_sender_too():
    rules = (
        "-A FORWARD -i eth1 -m conntrack --ctstate NEW -j ACCEPT\n"
        "-A FORWARD -i eth0 -m conntrack --ctstate ESTABLISHED -j ACCEPT"
    )
    verdict = check(rules)
    assert verdict.verdict == "blocked"
    assert "later packets" in verdict.reason


def test_first_match_wins_a_drop_shadows_a_later_accept():
    rules = f"{STATEFUL}\n-A FORWARD -d 203.0.113.0/24 -j DROP\n-A FORWARD -p tcp -j ACCEPT"
    verdict = check(rules)
    assert verdict.verdict == "blocked" and cited(verdict) == [6]
    assert verdict.lines[0].effect == "drops the new connection"


def test_reject_blocks():
    assert check("-A FORWARD -p tcp --dport 4401 -j REJECT", policy="ACCEPT").verdict == "blocked"


def test_log_does_not_decide():
    rules = f'{STATEFUL}\n-A FORWARD -j LOG --log-prefix "x: "\n-A FORWARD -p tcp -j ACCEPT'
    verdict = check(rules)
    assert verdict.verdict == "allowed" and 6 not in cited(verdict)


def test_user_chain_jump_and_return():
    rules = (
        ":LAN - [0:0]\n"
        f"{STATEFUL}\n-A FORWARD -i eth1 -j LAN\n-A FORWARD -p tcp --dport 4401 -j ACCEPT\n"
        "-A LAN -p udp -j DROP\n-A LAN -j RETURN\n-A LAN -j DROP"
    )
    verdict = check(rules)
    assert verdict.verdict == "allowed"
    assert 8 in cited(verdict)  # the accept after the return


def test_jump_into_a_chain_that_decides_is_cited():
    rules = f":LAN - [0:0]\n{STATEFUL}\n-A FORWARD -i eth1 -j LAN\n-A LAN -p tcp -j ACCEPT"
    verdict = check(rules)
    assert verdict.verdict == "allowed"
    effects = {line.line: line.effect for line in verdict.lines}
    assert effects[7] == "passes the new connection to LAN" and effects[8].startswith("accepts")


def test_goto_returns_to_the_callers_caller():
    """A RETURN in a chain entered by -g goes back past the chain that did the goto."""
    rules = (
        ":A - [0:0]\n:B - [0:0]\n"
        f"{STATEFUL}\n-A FORWARD -j A\n-A FORWARD -p tcp -j ACCEPT\n"
        "-A A -g B\n-A A -j DROP\n-A B -j RETURN"
    )
    assert check(rules).verdict == "allowed"  # with -j B the DROP in A would have applied
    assert check(rules.replace("-g B", "-j B")).verdict == "blocked"


def test_ports_ranges_multiport_and_negation():
    for match, expected in (
        ("--dport 4000:4500", "allowed"),
        ("--dport 4402:4500", "blocked"),
        ("-m multiport --dports 22,4401,5000:5010", "allowed"),
        ("-m multiport --dports 22,80", "blocked"),
        ("! --dport 22", "allowed"),
    ):
        rules = f"{STATEFUL}\n-A FORWARD -p tcp -m tcp {match} -j ACCEPT"
        assert check(rules).verdict == expected, match


def test_addresses_interfaces_and_negation():
    for match, expected in (
        ("-s 192.168.1.0/24 -d 203.0.113.0/24", "allowed"),
        ("! -s 192.168.1.10/32", "blocked"),
        ("-i eth+ -o eth0", "allowed"),
        ("-i eth0", "blocked"),
        ("-m iprange --src-range 192.168.1.5-192.168.1.20", "allowed"),
        ("-p udp", "blocked"),
    ):
        assert check(f"{STATEFUL}\n-A FORWARD {match} -j ACCEPT").verdict == expected, match


def test_source_port_rules_against_ephemeral_ports():
    covering = f"{STATEFUL}\n-A FORWARD -p tcp --sport 1024:65535 -j ACCEPT"
    assert check(covering).verdict == "allowed"
    never = f"{STATEFUL}\n-A FORWARD -p tcp --sport 53 -j ACCEPT"
    assert check(never).verdict == "blocked"
    partly = f"{STATEFUL}\n-A FORWARD -p tcp --sport 40000:50000 -j ACCEPT"
    assert check(partly).verdict == "unknown"
    assert check(partly, flow="tcp:192.168.1.10:45000->203.0.113.10:4401").verdict == "allowed"


def test_masquerade_and_snat():
    allow = f"{STATEFUL}\n-A FORWARD -p tcp -j ACCEPT"
    verdict = check(allow, "-A POSTROUTING -o eth0 -j MASQUERADE")
    assert verdict.verdict == "allowed" and verdict.translated_source == "192.0.2.1"
    verdict = check(allow, "-A POSTROUTING -o eth0 -j SNAT --to-source 192.0.2.5")
    assert verdict.translated_source == "192.0.2.5"
    verdict = check(allow, "-A POSTROUTING -o eth1 -j MASQUERADE")
    assert verdict.translated_source is None


def test_masquerade_behind_a_dynamic_address():
    text = "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n"
    topology = Topology.of_site(site(public_address=None, monitoring_enabled=False))
    verdict = evaluate(parse_iptables(text), Flow.parse(OUT), topology)
    assert verdict.translated_source == "the address of eth0"


def test_port_forward_with_the_post_dnat_address_in_forward():
    nat = FORWARD_IN.format(p="tcp", to="192.168.1.10:4403")
    good = f"{STATEFUL}\n-A FORWARD -i eth0 -d 192.168.1.10 -p tcp --dport 4403 -j ACCEPT"
    verdict = check(good, nat, flow=IN)
    assert verdict.verdict == "allowed"
    assert verdict.translated_destination == "192.168.1.10:4403"
    # FORWARD sees the translated destination: a rule for the public address never matches.
    wrong = f"{STATEFUL}\n-A FORWARD -i eth0 -d 192.0.2.1 -p tcp --dport 4403 -j ACCEPT"
    assert check(wrong, nat, flow=IN).verdict == "blocked"


def test_port_translation_and_ctstate_dnat():
    nat = FORWARD_IN.format(p="tcp", to="192.168.1.10:8443")
    rules = f"{STATEFUL}\n-A FORWARD -p tcp --dport 8443 -m conntrack --ctstate DNAT -j ACCEPT"
    verdict = check(rules, nat, flow=IN)
    assert verdict.verdict == "allowed"
    assert verdict.translated_destination == "192.168.1.10:8443"
    # The same accept does not let in a connection addressed to the host directly.
    direct = "tcp:198.51.100.7->192.168.1.10:8443"
    assert check(rules, nat, flow=direct).verdict == "blocked"


def test_a_port_forward_for_udp_only_does_not_forward_tcp():
    nat = FORWARD_IN.format(p="udp", to="192.168.1.10")
    verdict = check(f"{STATEFUL}\n-A FORWARD -j ACCEPT", nat, flow=IN)
    assert verdict.verdict == "blocked" and "firewall itself" in verdict.reason


def test_first_dnat_rule_wins():
    nat = (
        FORWARD_IN.format(p="tcp", to="192.168.1.20")
        + "\n"
        + FORWARD_IN.format(p="tcp", to="192.168.1.10")
    )
    verdict = check(f"{STATEFUL}\n-A FORWARD -j ACCEPT", nat, flow=IN)
    assert verdict.translated_destination == "192.168.1.20:4403"


def test_redirect_delivers_to_the_firewall_itself():
    nat = "-A PREROUTING -i eth1 -p tcp --dport 4401 -j REDIRECT --to-ports 3128"
    verdict = check("-A FORWARD -j ACCEPT", nat)
    assert verdict.verdict == "blocked" and "192.168.1.1" in verdict.reason


def test_ipset_match_is_unknown_only_where_it_could_decide():
    deciding = f"{STATEFUL}\n-A FORWARD -m set --match-set allowed dst -j ACCEPT"
    verdict = check(deciding)
    assert verdict.verdict == "unknown" and cited(verdict) == [6]
    assert "ipset 'allowed'" in verdict.lines[0].effect
    for harmless in (
        "-A FORWARD -p udp -m set --match-set allowed dst -j ACCEPT",  # never TCP
        "-A FORWARD -p tcp -m set --match-set x src -j LOG",  # not terminating
    ):
        rules = f"{STATEFUL}\n{harmless}\n-A FORWARD -p tcp -j ACCEPT"
        verdict = check(rules)
        assert verdict.verdict == "allowed", harmless
    after = f"{STATEFUL}\n-A FORWARD -p tcp -j ACCEPT\n-A FORWARD -m set --match-set x src -j DROP"
    assert check(after).verdict == "allowed"
    same_answer = f"{STATEFUL}\n-A FORWARD -m set --match-set x src -j DROP"
    verdict = check(same_answer)
    assert verdict.verdict == "blocked" and "without effect" in verdict.reason


def test_an_unknown_target_on_the_path_is_unknown():
    rules = f"{STATEFUL}\n-A FORWARD -p tcp -j NFQUEUE --queue-num 1\n-A FORWARD -j ACCEPT"
    verdict = check(rules)
    assert verdict.verdict == "unknown" and cited(verdict) == [6]


def test_mangle_drop_counts_and_mangle_marks_do_not():
    text = (
        "*mangle\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j MARK --set-mark 1\n"
        "-A FORWARD -p tcp --dport 4401 -j DROP\nCOMMIT\n*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"
    )
    verdict = evaluate(parse_iptables(text), Flow.parse(OUT), Topology.of_site(site()))
    assert verdict.verdict == "blocked" and cited(verdict) == [4]


def test_before_conntrack_every_packet_is_invalid():
    """In the raw table conntrack has not run: no state NEW, no DNAT status."""
    base = "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n*raw\n:PREROUTING ACCEPT [0:0]\n{}\nCOMMIT\n"
    topology = Topology.of_site(site())
    for rule, expected in (
        ("-A PREROUTING -m conntrack --ctstate INVALID -j DROP", "blocked"),
        ("-A PREROUTING -m conntrack --ctstate NEW -j DROP", "allowed"),
        ("-A PREROUTING -m conntrack ! --ctstate DNAT -j DROP", "blocked"),
    ):
        ruleset = parse_iptables(base.format(rule))
        assert evaluate(ruleset, Flow.parse(OUT), topology).verdict == expected, rule
