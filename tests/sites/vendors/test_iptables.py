"""The iptables renderer: one iptables-restore file (the real loader runs in test_loaders.py)."""

from __future__ import annotations

from tests.sites.vendors.example_sites import (
    MONITORING,
    config_for,
    lines_starting,
)


def rules_file(**changes) -> str:
    return config_for("iptables", **changes)


def test_one_commit_per_table_and_conntrack_first():
    text = rules_file(**MONITORING)
    assert lines_starting(text, "*") == ["*filter", "*nat"]
    assert text.count("COMMIT") == 2
    assert lines_starting(text, "-I FORWARD")[0] == (
        "-I FORWARD 1 -m conntrack --ctstate ESTABLISHED,RELATED "
        '-m comment --comment "obm:test-site:established" -j ACCEPT'
    )
    assert ":FORWARD" not in text  # no chain policy is set or assumed


def test_rules_are_inserted_in_order():
    numbers = [
        int(line.split()[2]) for line in lines_starting(rules_file(**MONITORING), "-I FORWARD")
    ]
    assert numbers == list(range(1, len(numbers) + 1))


def test_static_host_outbound_and_masquerade():
    text = rules_file(inside_interface="eth1", outside_interface="eth0")
    assert lines_starting(text, "-I FORWARD 2") == [
        "-I FORWARD 2 -i eth1 -o eth0 -s 192.168.1.10/32 -d 203.0.113.0/24 "
        "-p tcp -m tcp --dport 4401 "
        '-m comment --comment "obm:test-site:out-tcp-4401-to-203.0.113.0-24" -j ACCEPT'
    ]
    assert lines_starting(text, "-A POSTROUTING") == [
        "-A POSTROUTING -o eth0 -s 192.168.1.10/32 -d 203.0.113.0/24 "
        "-p tcp -m tcp --dport 4401 "
        '-m comment --comment "obm:test-site:snat-tcp-4401-to-203.0.113.0-24" -j MASQUERADE'
    ]


def test_range_uses_iprange():
    text = rules_file(
        host_addressing="range",
        host_address=None,
        host_range_start="192.168.1.10",
        host_range_end="192.168.1.20",
    )
    assert text.count("-m iprange --src-range 192.168.1.10-192.168.1.20") == 2  # FORWARD + nat


def test_monitoring_dnat_per_protocol_and_forward_on_private_address():
    text = rules_file(**MONITORING)
    assert lines_starting(text, "-A PREROUTING") == [
        f"-A PREROUTING -i wan0 -s 198.51.100.7/32 -d 192.0.2.1/32 -p {p} -m {p} --dport {port} "
        f'-m comment --comment "obm:test-site:dnat-{p}-{port}-from-198.51.100.7-32" '
        f"-j DNAT --to-destination 192.168.1.10:{port}"
        for p, port in (("tcp", 4403), ("udp", 4403), ("tcp", 4401))
    ]
    inbound = [line for line in lines_starting(text, "-I FORWARD") if "-i wan0" in line]
    assert len(inbound) == 3
    assert all("-d 192.168.1.10/32" in line and "192.0.2.1" not in line for line in inbound)


def test_monitoring_from_any_source_has_no_source_match():
    text = rules_file(**{**MONITORING, "monitoring_sources": []})
    assert all(" -s " not in line for line in lines_starting(text, "-A PREROUTING"))


def test_dynamic_public_address_matches_local_destination():
    text = rules_file(**{**MONITORING, "public_address": None})
    assert all(
        "-m addrtype --dst-type LOCAL" in line for line in lines_starting(text, "-A PREROUTING")
    )
