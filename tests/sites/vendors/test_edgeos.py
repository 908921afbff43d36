"""The EdgeOS / UniFi renderer: tcp_udp rules, private address in WAN_IN, masquerade as a check,
rule numbers from the items, markers and in-place changes in one commit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sites.description import GUIDE_PROFILE, PortSpec
from sites.plans import plan_change
from sites.policy import WarningCode, derive_rules
from sites.vendors import RENDERERS
from sites.vendors.base import StepKind
from sites.vendors.edgeos import DESTINATION_NAT_RULES, _Numbers
from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    DHCP,
    MONITORING,
    RANGE,
    config_for,
    make_site,
    render_for,
)


def rendered(**changes):
    return render_for("edgeos", **changes)


def config(**changes) -> str:
    return config_for("edgeos", **changes)


def rule(text: str, prefix: str) -> list[str]:
    """The attributes set on one rule, e.g. ``rule(text, "set service nat rule 4401")``."""
    return [line[len(prefix) + 1 :] for line in text.splitlines() if line.startswith(prefix + " ")]


def test_outbound_rule_with_the_datacenter_group():
    text = config()
    assert "set firewall group network-group obm-dc network 203.0.113.0/24" in text
    assert rule(text, "set firewall name LAN_IN rule 4401") == [
        "description 'obm:test-site:out-4401'",
        "action accept",
        "destination group network-group obm-dc",
        "destination port 4401",
        "protocol tcp",
        "source address 192.168.1.10",
    ]


def test_tcp_and_udp_4403_share_one_tcp_udp_rule():
    text = config(**MONITORING)
    nat = rule(text, "set service nat rule 4403")
    assert "protocol tcp_udp" in nat and "destination port 4403" in nat
    assert rule(text, "set service nat rule 4401")[7:9] == [
        "protocol tcp",
        "source group address-group obm-monitoring",
    ]
    assert "destination port 4401" in rule(text, "set service nat rule 4401")
    assert not rule(text, "set service nat rule 4402")
    assert "protocol tcp_udp" in rule(text, "set firewall name WAN_IN rule 4403")


def test_destination_nat_forwards_to_the_host():
    nat = rule(config(**MONITORING), "set service nat rule 4403")
    assert nat == [
        "description 'obm:test-site:dnat-4403'",
        "destination address 192.0.2.1",
        "destination port 4403",
        "inbound-interface eth0",
        "inside-address address 192.168.1.10",
        "inside-address port 4403",
        "log disable",
        "protocol tcp_udp",
        "source group address-group obm-monitoring",
        "type destination",
    ]


def test_wan_in_names_the_private_address():
    text = config(**MONITORING)
    for number in (4401, 4403):
        attributes = rule(text, f"set firewall name WAN_IN rule {number}")
        assert "destination address 192.168.1.10" in attributes
        assert "action accept" in attributes
    wan_in = [line for line in text.splitlines() if "WAN_IN" in line]
    assert not any("192.0.2.1" in line for line in wan_in)


def test_masquerade_is_a_check_with_a_commented_fallback():
    result = rendered()
    check = next(s for s in result.steps if "masquerade" in s.title)
    assert check.kind is StepKind.CHECK
    assert all(line.startswith("#") for line in check.config.splitlines())
    assert "# set service nat rule 5401 type masquerade" in check.config
    assert "# set service nat rule 5401 outbound-interface eth0" in check.config


def test_nat_rule_numbers_keep_to_their_ranges():
    text = config(**MONITORING) + "\n".join(
        line[2:] for line in rendered().steps[2].config.splitlines() if line.startswith("# set")
    )
    for line in text.splitlines():
        if line.startswith("set service nat rule "):
            number = int(line.split()[4])
            kind = "destination" if number < 5000 else "source"
            assert (kind == "destination") == (number in (4401, 4403)), line


def test_every_change_is_committed_and_saved():
    result = rendered(**MONITORING)
    for s in result.steps:
        if s.kind is StepKind.CHANGE:
            assert s.config.splitlines()[0] == "configure"
            assert s.config.splitlines()[-3:] == ["commit", "save", "exit"]


def test_dynamic_public_address_matches_the_inbound_interface_only():
    result = rendered(
        **{**MONITORING, "public_address": None},
        outside_interface="pppoe0",
        inside_interface="switch0",
    )
    nat = rule(config_file(result), "set service nat rule 4403")
    assert "inbound-interface pppoe0" in nat
    assert not any(a.startswith("destination address") for a in nat)
    assert WarningCode.DYNAMIC_PUBLIC_ADDRESS in {w.code for w in result.warnings}


def test_network_sources_become_address_ranges():
    text = config(**{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.16/28"]})
    assert "set firewall group address-group obm-monitoring address 198.51.100.7" in text
    assert (
        "set firewall group address-group obm-monitoring address 198.51.100.16-198.51.100.31"
        in text
    )


def test_range_is_native():
    result = rendered(**RANGE)
    assert "source address 192.168.1.10-192.168.1.20" in config_file(result)
    assert WarningCode.RANGE_UNSUPPORTED not in {w.code for w in result.warnings}


def test_unifi_paths_are_given():
    result = rendered(**MONITORING)
    forward = next(s for s in result.steps if s.title.startswith("Forward"))
    assert "Settings › Routing › Port Forwarding" in forward.gui_path
    assert "Settings › Security › Firewall Rules" in result.steps[0].gui_path


@pytest.mark.parametrize(
    "changes", [{}, MONITORING, RANGE, DHCP, {**MONITORING, "public_address": None}]
)
def test_commands_are_edgeos_commands(changes):
    text = config(**changes)
    assert "None" not in text
    for line in filter(None, text.splitlines()):
        assert line.startswith(("set ", "configure", "commit", "save", "exit", "#")), line


def test_rule_numbers_come_from_the_ports_never_from_positions():
    """A new port in the profile must not renumber the rules of the others."""
    renderer = RENDERERS["edgeos"]
    site = make_site(vendor="edgeos", **MONITORING)
    wider = replace(
        GUIDE_PROFILE,
        outbound_ports=(PortSpec("tcp", 4400), *GUIDE_PROFILE.outbound_ports),
    )

    def numbers(profile):
        items = renderer.managed_items(derive_rules(site, profile), site, profile)
        return {i.key: i.create.splitlines()[0].split(" description")[0] for i in items}

    before, after = numbers(GUIDE_PROFILE), numbers(wider)
    assert before["out-4401"] == after["out-4401"] == "set firewall name LAN_IN rule 4401"
    assert after["out-4400"] == "set firewall name LAN_IN rule 4400"
    assert {k: v for k, v in after.items() if k in before} == before
    plan = plan_change(site, GUIDE_PROFILE, site, wider, renderers=[renderer])
    config_text = "\n".join(s.config for s in plan.documents[0].steps)
    assert "delete firewall name LAN_IN rule 4401" not in config_text


def test_a_port_outside_a_range_gets_a_number_from_its_key():
    numbers = _Numbers()
    first = numbers.of("nat", "dnat-8443", 8443, DESTINATION_NAT_RULES)
    assert 3000 <= first <= 4999
    assert _Numbers().of("nat", "dnat-8443", 8443, DESTINATION_NAT_RULES) == first  # stable
    # Another item that derives the same number moves on to the next free one.
    numbers.taken["nat"].add(first + 1 if first < 4999 else 3000)
    second = numbers.of("nat", "dnat-8443", 8443, DESTINATION_NAT_RULES)
    assert second not in {first} and 3000 <= second <= 4999


def test_a_change_is_made_in_place_in_one_commit():
    old = make_site(vendor="edgeos", **MONITORING)
    new = make_site(vendor="edgeos", **{**MONITORING, "monitoring_sources": ["198.51.100.9/32"]})
    plan = plan_change(old, GUIDE_PROFILE, new, GUIDE_PROFILE, renderers=[RENDERERS["edgeos"]])
    (change,) = [s for s in plan.documents[0].steps if s.action]
    assert change.action == "change"
    assert change.config.splitlines() == [
        "configure",
        "delete firewall group address-group obm-monitoring",
        "set firewall group address-group obm-monitoring description 'obm:test-site:monitoring'",
        "set firewall group address-group obm-monitoring address 198.51.100.9",
        "commit",
        "save",
        "exit",
    ]
