"""The pfSense renderer: GUI field values, and the traps pfSense has."""

from __future__ import annotations

import pytest

from sites.description import GUIDE_PROFILE
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.base import StepKind
from sites.vendors.managed import Exposure
from tests.sites.plans.test_every_vendor import WIDER
from tests.sites.vendors.example_sites import MONITORING, RANGE, make_site, render_for


def steps(**changes):
    return render_for("pfsense", **changes).steps


def step(title_part: str, **changes):
    return next(s for s in steps(**changes) if title_part in s.title)


def test_static_host_order_and_kinds():
    kinds = [(s.kind, s.gui_path) for s in steps()]
    assert kinds == [
        (StepKind.CHANGE, "Firewall › Aliases › IP › Add"),
        (StepKind.CHANGE, "Firewall › Rules › LAN › Add (arrow up: add to the top)"),
        (StepKind.CHECK, "Firewall › NAT › Outbound"),
        (StepKind.VERIFY, "Diagnostics › States"),
    ]


def test_datacenter_alias_and_lan_rule():
    aliases = step("Create the alias").config
    assert "Name: OBM_DC" in aliases and "Type: Network(s)" in aliases
    assert "Entry: 203.0.113.0 / 24" in aliases
    rule = step("Allow TCP 4401").config.splitlines()
    for line in (
        "Action: Pass",
        "Interface: LAN",
        "Protocol: TCP",
        "Source: Single host or alias — 192.168.1.10",
        "Destination: Single host or alias — OBM_DC",
        "Destination Port Range: From (other) 4401 — To (other) 4401",
    ):
        assert line in rule


def test_range_is_a_host_alias():
    assert get_renderer("pfsense").supports_ranges
    aliases = step("Create the alias", **RANGE)
    assert "Name: OBM_HOSTS" in aliases.config and "Type: Host(s)" in aliases.config
    assert "Entry: 192.168.1.10-192.168.1.20" in aliases.config
    assert aliases.title == "Create the aliases for the datacenter and the backup hosts"
    assert "Source: Single host or alias — OBM_HOSTS" in step("Allow TCP 4401", **RANGE).config
    assert "Source: Network — OBM_HOSTS" in step("outbound NAT", **RANGE).config


def test_no_monitoring_steps_without_monitoring():
    assert not any("Port Forward" in s.gui_path or "WAN" in s.gui_path for s in steps())


def test_tcp_and_udp_4403_are_one_port_forward():
    forward = step("Forward the monitoring ports", **MONITORING)
    assert forward.gui_path.startswith("Firewall › NAT › Port Forward")
    blocks = forward.config.split("\n\n")
    assert len(blocks) == 2
    assert "Protocol: TCP/UDP" in blocks[0] and "From (other) 4403" in blocks[0]
    assert "Protocol: TCP\n" in blocks[1] + "\n" and "From (other) 4401" in blocks[1]
    for block in blocks:
        assert "Redirect target IP: Address or Alias — 192.168.1.10" in block
        assert "Filter rule association: Add associated filter rule" in block
        assert "Source (Display Advanced): Single host or alias — OBM_MONITOR" in block
        assert "Interface: WAN" in block


def test_inbound_rules_name_the_private_address():
    check = step("pass rules for the forwarded", **MONITORING)
    assert check.kind is StepKind.CHECK and check.gui_path == "Firewall › Rules › WAN"
    assert "Destination 192.168.1.10 port 4403" in check.config
    assert "Destination 192.168.1.10 port 4401" in check.config
    assert "192.0.2.1" not in check.config


def test_monitoring_alias_holds_the_sources():
    aliases = step(
        "Create the alias",
        **{**MONITORING, "monitoring_sources": ["198.51.100.7", "198.51.100.0/28"]},
    )
    assert aliases.title == "Create the aliases for the datacenter and the monitoring computers"
    assert "Name: OBM_MONITOR" in aliases.config
    assert (
        "Entry: 198.51.100.7 / 32" in aliases.config
        and "Entry: 198.51.100.0 / 28" in aliases.config
    )


def test_the_alias_names_no_monitor_without_sources():
    assert "OBM_MONITOR" not in step("Create the alias", monitoring_enabled=True).config


@pytest.mark.parametrize(
    "public, expected",
    [
        ("192.0.2.1", "Destination: WAN address (192.0.2.1;"),
        (None, "Destination: WAN address (follows the address the provider assigns)"),
    ],
)
def test_public_address_static_or_dynamic(public, expected):
    forward = step("Forward the monitoring ports", **{**MONITORING, "public_address": public})
    assert expected in forward.config
    assert ("Dynamic DNS" in forward.reason) == (public is None)


def test_interface_names_from_the_site():
    all_steps = steps(**MONITORING, inside_interface="OFFICE", outside_interface="FIBER")
    assert "Firewall › Rules › OFFICE › Add (arrow up: add to the top)" in [
        s.gui_path for s in all_steps
    ]
    assert (
        "Interface: FIBER"
        in step(
            "Forward the monitoring ports",
            **MONITORING,
            inside_interface="OFFICE",
            outside_interface="FIBER",
        ).config
    )


def items(profile=GUIDE_PROFILE, **changes):
    description = make_site(vendor="pfsense", **changes)
    renderer = get_renderer("pfsense")
    return {
        item.key: item
        for item in renderer.managed_items(derive_rules(description, profile), description, profile)
    }


def test_every_description_starts_with_its_marker():
    assert list(items(**RANGE)) == ["alias-dc", "alias-hosts", "out-tcp-4401", "snat-tcp-4401"]
    marked = items(**MONITORING)
    assert list(marked) == [
        "alias-dc",
        "alias-monitoring",
        "out-tcp-4401",
        "snat-tcp-4401",
        "dnat-tcp-udp-4403",
        "dnat-tcp-4401",
    ]
    for item in marked.values():
        assert f"Description: {item.marker} SecuriData Online Backup: " in item.create
        assert f"whose Description begins with {item.marker}," in item.remove


def test_the_associated_rule_keeps_the_marker_within_pfsense_s_59_characters():
    """pfSense names the associated rule "NAT " + description, cut to 59 characters."""
    longest = items(**MONITORING, name="abcdefghijklmnopqrstuvwxyz0123")
    forward = longest["dnat-tcp-udp-4403"]
    assert len(forward.marker) == len("obm:") + 24 + len(":dnat-tcp-udp-4403")
    assert len(f"NAT {forward.marker}") <= 59


def test_removing_a_port_forward_names_its_associated_rule():
    forward = items(**MONITORING)["dnat-tcp-4401"]
    assert forward.exposure is Exposure.INBOUND
    assert forward.remove.startswith(
        "Firewall › NAT › Port Forward: delete the port forward whose Description begins with "
        "obm:test-site:dnat-tcp-4401, then click Apply Changes."
    )
    assert 'created with "Add associated filter rule", so pfSense deletes' in forward.remove
    assert "If Firewall › Rules › WAN still lists a rule whose Description begins with NAT" in (
        forward.remove
    )
    assert forward.uses == ("alias-monitoring",)


def test_accept_only_rules_leave_the_default_allow_rule_alone():
    """The LAN rule only adds a pass: the step says the default allow-any rule already passes
    the traffic, and removing our rule says that rule (not ours) stays."""
    outbound = step("Allow TCP 4401")
    assert 'If the default "allow LAN to any" rule is still in place' in outbound.reason
    assert "never change or remove the default rule" in outbound.reason
    rule = items()["out-tcp-4401"]
    assert 'the "Default allow LAN to any rule", if it is still there, was there before' in (
        rule.remove
    )
    assert rule.uses == ("alias-dc",)


def test_a_new_datacenter_network_only_edits_the_alias():
    before, after = items(), items(WIDER)
    changed = [key for key in after if after[key].create != before[key].create]
    assert changed == ["alias-dc"]
    assert "Entry: 198.51.100.0 / 24" in after["alias-dc"].update
    assert after["alias-dc"].update.startswith(
        "Firewall › Aliases › IP: edit the alias OBM_DC whose Description begins with"
    )


def test_the_outbound_nat_mapping_is_removed_only_if_it_was_added():
    mapping = items()["snat-tcp-4401"]
    assert mapping.create.startswith("Only if Outbound NAT Mode is Manual")
    assert mapping.remove.startswith("If you added it: Firewall › NAT › Outbound › Mappings:")
    assert "the automatic rules are pfSense's own and stay" in mapping.remove
