"""Instructions adjusted to a checked configuration (``sites.vendors.reuse``), per vendor, on
realistic configurations: the customer's objects of the same value are named instead of ours
(and never created or removed by us), and a rule an existing deny would shadow is placed above
it with the reason. Without anything to build on, the instructions are exactly the plain ones.
The packet lab proves the iptables and nftables placements with real connections
(tests/sites/lab/test_placed_above_deny.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sites.analyzer.analyze import analyze
from sites.analyzer.model import ExistingObjects
from sites.description import GUIDE_PROFILE
from sites.plans.applied import AppliedCheck
from sites.plans.engine import plan_change, plan_items, plan_removal
from sites.policy import derive_rules
from sites.vendors import get_renderer
from sites.vendors.reuse import Adjusted, adjust_to
from tests.sites.analyzer.configs import site

DATA = Path(__file__).parent / "data"
FGT = (DATA / "fortigate" / "fgt60f.conf").read_text()
ASA = (DATA / "cisco-asa" / "factory-default.txt").read_text()
PANOS = (DATA / "paloalto" / "running-config.xml").read_text()
PFSENSE = (DATA / "pfsense" / "factory.xml").read_text()

# A FortiGate 60F with the customer's own objects for the NAS that backs up, the provider's
# network and the backup port, and a deny policy (ID 5) above where a new policy lands.
FORTIGATE_CUSTOMER = FGT.replace(
    "config firewall policy\n",
    """\
config firewall address
    edit "LAN_BACKUP"
        set comment "NAS backup box"
        set subnet 192.168.1.10 255.255.255.255
    next
    edit "SecuriData-DC"
        set subnet 203.0.113.0 255.255.255.0
    next
end
config firewall service custom
    edit "Backup-4401"
        set tcp-portrange 4401
    next
end
config firewall policy
    edit 5
        set name "Block-cloud"
        set srcintf "internal"
        set dstintf "wan1"
        set action deny
        set srcaddr "all"
        set dstaddr "SecuriData-DC"
        set schedule "always"
        set service "ALL"
    next
""",
    1,
)


def iptables_mangle_drop(inside: str, outside: str, *, more_drops: str = "") -> str:
    """A customer's iptables-save: forwarding dropped by default, the LAN may browse (443), and
    a "blocked port ranges" rule in mangle FORWARD, which runs before the filter table."""
    return f"""\
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
{more_drops}-A FORWARD -p tcp -m tcp --dport 4000:4999 -j DROP
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i {inside} -o {outside} -p tcp -m tcp --dport 443 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o {outside} -j MASQUERADE
COMMIT
"""


IPTABLES_MANGLE_DROP = iptables_mangle_drop("eth1", "eth0")


def adjusted(vendor: str, text: str, **changes) -> tuple[Adjusted, object]:
    described = site(vendor=vendor, **changes)
    analysis = analyze(text, vendor, described, GUIDE_PROFILE)
    renderer = get_renderer(vendor)
    policy = derive_rules(described, GUIDE_PROFILE)
    result = adjust_to(
        renderer, policy, described, GUIDE_PROFILE, analysis.existing, analysis.shadowing
    )
    return result, analysis


def blocked_with_one_reuse(vendor: str, text: str, **changes):
    """The adjustments of a configuration that blocks the backup and has one object to reuse:
    the result and that reuse."""
    result, analysis = adjusted(vendor, text, **changes)
    assert analysis.results[0].verdict.verdict == "blocked"
    (reuse,) = result.adjustments.reuses
    return result, reuse


def step(result: Adjusted, title_start: str):
    return next(s for s in result.rendered.steps if s.title.startswith(title_start))


NO_MONITORING = {"monitoring_enabled": False, "monitoring_sources": [], "public_address": None}
FORTIGATE_SITE = {"inside_interface": "internal", "outside_interface": "wan1", **NO_MONITORING}


# -- FortiGate ---------------------------------------------------------------------------------


def test_fortigate_reuses_the_customers_objects_and_moves_the_policy_above_the_deny():
    result, analysis = adjusted("fortigate", FORTIGATE_CUSTOMER, **FORTIGATE_SITE)
    assert analysis.results[0].verdict.verdict == "blocked"
    reused = {r.ours.name: (r.theirs.name, r.theirs.line) for r in result.adjustments.reuses}
    assert reused == {
        "obm-host": ("LAN_BACKUP", 59),
        "obm-dc": ("SecuriData-DC", 63),
        "obm-tcp-4401": ("Backup-4401", 68),
    }
    objects = step(result, "Create the address objects")
    assert objects.config == ""
    assert "Uses your existing address object LAN_BACKUP (line 59)" in objects.reason
    assert "Nothing to create here" in objects.reason
    assert step(result, "Create the services").config == ""
    policy = step(result, "Allow the backup connection out")
    assert 'set srcaddr "LAN_BACKUP"' in policy.config
    assert 'set dstaddr "SecuriData-DC"' in policy.config
    assert 'set service "Backup-4401"' in policy.config
    assert "obm-host" not in policy.config and "obm-dc" not in policy.config
    assert policy.config.endswith(
        "config firewall policy\n    move <ID of obm-backup-out> before 5\nend\n"
    )
    assert "Your policy 5 (line 73) denies this connection and comes first" in policy.reason


def test_fortigate_a_group_of_the_same_networks_stands_for_ours_and_its_members():
    text = FGT.replace(
        "config firewall policy\n",
        """\
config firewall address
    edit "dc-a"
        set subnet 203.0.113.0 255.255.255.128
    next
    edit "dc-b"
        set subnet 203.0.113.128 255.255.255.128
    next
end
config firewall addrgrp
    edit "SecuriData"
        set member "dc-a" "dc-b"
    next
end
config firewall policy
""",
        1,
    )
    result, _ = adjusted("fortigate", text, **FORTIGATE_SITE)
    (reuse,) = result.adjustments.reuses
    assert (reuse.ours.name, reuse.theirs.name, reuse.theirs.kind) == (
        "obm-dc",
        "SecuriData",
        "group",
    )
    objects = step(result, "Create the address objects")
    assert 'edit "obm-host"' in objects.config  # still ours: no object of that value
    assert "obm-dc" not in objects.config  # neither the group nor its member objects
    keys = {item.key: item for item in result.items}
    assert "dc-203.0.113.0-24" not in keys and keys["dc"].customer_object == "SecuriData"


def test_a_customer_object_is_never_created_or_removed_by_a_plan():
    """The reused objects stay the customer's: a removal plan removes our policy and our own
    objects, and leaves LAN_BACKUP, SecuriData-DC and Backup-4401 alone."""
    result, _ = adjusted("fortigate", FORTIGATE_CUSTOMER, **FORTIGATE_SITE)
    renderer = get_renderer("fortigate")
    removal = plan_items(renderer, result.items, (), ("decommission",))
    text = "\n".join(s.config for s in removal)
    assert "delete <ID of obm-backup-out>" in text
    for theirs in ("LAN_BACKUP", "SecuriData-DC", "Backup-4401"):
        assert theirs not in text
    assert "obm-host" not in text  # never created, so nothing of ours to remove either
    creation = plan_items(renderer, (), result.items, ("new",))
    created = "\n".join(s.config for s in creation)
    assert 'set srcaddr "LAN_BACKUP"' in created and 'edit "LAN_BACKUP"' not in created
    # From the plain instructions to the adjusted ones: ours goes, theirs is not touched.
    plain = renderer.managed_items(
        derive_rules(site(vendor="fortigate", **NO_MONITORING), GUIDE_PROFILE),
        site(
            vendor="fortigate",
            inside_interface="internal",
            outside_interface="wan1",
            **NO_MONITORING,
        ),
        GUIDE_PROFILE,
    )
    change = "\n".join(s.config for s in plan_items(renderer, plain, result.items, ("check",)))
    assert 'delete "obm-host"' in change and 'delete "LAN_BACKUP"' not in change


# -- Cisco ASA ---------------------------------------------------------------------------------

ASA_CUSTOMER = ASA.replace(
    "pager lines 24\n",
    """\
pager lines 24
object network SECURIDATA
 subnet 203.0.113.0 255.255.255.0
access-list INSIDE_IN extended permit tcp 192.168.1.0 255.255.255.0 any eq https
access-list INSIDE_IN extended deny ip any object SECURIDATA
access-list INSIDE_IN extended permit ip any any
access-group INSIDE_IN in interface inside
""",
    1,
)


def test_asa_uses_the_customers_access_list_and_network_object():
    result, reuse = blocked_with_one_reuse(
        "cisco-asa",
        ASA_CUSTOMER,
        inside_interface="inside",
        outside_interface="outside",
        **NO_MONITORING,
    )
    assert (reuse.ours.name, reuse.theirs.name, reuse.theirs.kind) == (
        "obm-dc",
        "SECURIDATA",
        "address",
    )
    outbound = step(result, "Allow the backup traffic out")
    assert (
        "access-list INSIDE_IN line 2 extended permit tcp object obm-host object SECURIDATA eq 4401"
        in outbound.config
    )
    assert "inside_access_in" not in outbound.config and "INSIDE_IN" in outbound.title
    assert "Your access list INSIDE_IN refuses this connection at line" in outbound.reason
    objects = step(result, "Define the backup host")
    assert "object network obm-host" in objects.config and "obm-dc" not in objects.config
    assert "Uses your existing address object SECURIDATA" in objects.reason


# -- PAN-OS ------------------------------------------------------------------------------------

PANOS_CUSTOMER = (
    PANOS.replace(
        "          </address>\n",
        """\
            <entry name="nas-backup">
              <ip-netmask>192.168.1.10</ip-netmask>
            </entry>
            <entry name="securidata-cloud">
              <ip-netmask>203.0.113.0/24</ip-netmask>
            </entry>
          </address>
""",
        1,
    )
    .replace(
        "          </service>\n",
        """\
            <entry name="backup-4401">
              <protocol><tcp><port>4401</port></tcp></protocol>
            </entry>
          </service>
""",
        1,
    )
    .replace(
        '                <entry name="web out">\n',
        """\
                <entry name="no-cloud-storage">
                  <from><member>trust</member></from>
                  <to><member>untrust</member></to>
                  <source><member>any</member></source>
                  <destination><member>securidata-cloud</member></destination>
                  <application><member>any</member></application>
                  <service><member>any</member></service>
                  <action>deny</action>
                </entry>
                <entry name="web out">
""",
        1,
    )
)


def test_paloalto_reuses_addresses_and_service_and_moves_before_the_deny():
    result, analysis = adjusted(
        "paloalto", PANOS_CUSTOMER, inside_interface="", outside_interface="", **NO_MONITORING
    )
    assert analysis.results[0].verdict.verdict == "blocked"
    reused = {r.ours.name: r.theirs.name for r in result.adjustments.reuses}
    assert reused == {
        "obm-host": "nas-backup",
        "obm-dc": "securidata-cloud",
        "obm-tcp-4401": "backup-4401",
    }
    security = step(result, "Allow the backup connection out")
    assert (
        'move rulebase security rules obm-backup-out before "no-cloud-storage"' in security.config
    )
    assert "top" not in security.config
    assert "source nas-backup" in security.config or "nas-backup" in security.config
    assert "obm-host" not in security.config and "obm-tcp-4401" not in security.config
    assert "Your security rule no-cloud-storage" in security.reason
    assert "set address obm-host" not in step(result, "Create").config


# -- pfSense -----------------------------------------------------------------------------------

PFSENSE_CUSTOMER = PFSENSE.replace(
    "\t<aliases></aliases>",
    "\t<aliases><alias><name>SecuriData</name><type>network</type>"
    "<address>203.0.113.0/24</address><descr>backup provider</descr></alias></aliases>",
).replace(
    "\t<filter>\n",
    "\t<filter>\n\t\t<rule><type>block</type><ipprotocol>inet</ipprotocol><interface>lan</interface>"
    "<protocol>tcp</protocol><source><any/></source><destination><address>SecuriData</address>"
    "</destination><descr>no cloud backup</descr></rule>\n",
    1,
)


def test_pfsense_reuses_an_alias_and_says_where_the_rule_goes():
    result, reuse = blocked_with_one_reuse(
        "pfsense", PFSENSE_CUSTOMER, inside_interface="", outside_interface="", **NO_MONITORING
    )
    assert (reuse.ours.name, reuse.theirs.name) == ("OBM_DC", "SecuriData")
    aliases = step(result, "Create the alias")
    assert aliases.config == "" and "Uses your existing alias SecuriData" in aliases.reason
    rule = step(result, "Allow")
    assert "SecuriData" in rule.config and "OBM_DC" not in rule.config
    assert "blocks this connection today" in rule.reason


# -- iptables and nftables ---------------------------------------------------------------------


def test_iptables_places_the_rules_in_the_chain_that_drops_first():
    result, analysis = adjusted("iptables", IPTABLES_MANGLE_DROP, **NO_MONITORING)
    (deny,) = analysis.shadowing
    assert (deny.table, deny.chain, deny.position, deny.line) == ("mangle", "FORWARD", 1, 7)
    filter_step = step(result, "Allow the backup traffic")
    assert "*mangle\n" in filter_step.config
    assert (
        "\n-I FORWARD 2 -i eth1 -o eth0 -s 192.168.1.10/32"
        in filter_step.config.split("*mangle")[1]
    )
    assert "`-A FORWARD -p tcp -m tcp --dport 4000:4999 -j DROP`" in filter_step.reason


def test_iptables_a_filter_drop_is_already_below_our_rules():
    text = IPTABLES_MANGLE_DROP.replace(
        "-A FORWARD -p tcp -m tcp --dport 4000:4999 -j DROP\n", ""
    ).replace("COMMIT\n*nat", "-A FORWARD -j DROP\nCOMMIT\n*nat")
    result, analysis = adjusted("iptables", text, **NO_MONITORING)
    (deny,) = analysis.shadowing
    assert deny.table == "filter"
    filter_step = step(result, "Allow the backup traffic")
    plain = get_renderer("iptables").render(
        derive_rules(site(vendor="iptables", **NO_MONITORING), GUIDE_PROFILE),
        site(vendor="iptables", **NO_MONITORING),
        GUIDE_PROFILE,
    )
    assert filter_step.config == plain.steps[0].config
    assert (
        "go to the top of FORWARD (`-I FORWARD 1`, …), so they come before it" in filter_step.reason
    )


def test_nftables_inserts_into_the_other_base_chain_at_the_denys_index():
    result, analysis = adjusted("nftables", NFT_BLOCKLIST, **NO_MONITORING)
    (deny,) = analysis.shadowing
    assert (deny.family, deny.table, deny.chain, deny.position) == ("ip", "blocklist", "forward", 2)
    filter_step = step(result, "Allow the backup traffic")
    assert (
        "insert rule ip blocklist forward index 1 ct state established,related accept"
        in filter_step.config
    )
    assert "nft -a list chain ip blocklist forward" in filter_step.reason


# -- nothing to build on -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "vendor",
    [
        "fortigate",
        "cisco-asa",
        "paloalto",
        "pfsense",
        "opnsense",
        "iptables",
        "nftables",
        "mikrotik",
        "cisco-ios",
    ],
)
def test_without_anything_to_build_on_the_instructions_are_unchanged(vendor):
    described = site(vendor=vendor)
    renderer = get_renderer(vendor)
    policy = derive_rules(described, GUIDE_PROFILE)
    result = adjust_to(renderer, policy, described, GUIDE_PROFILE, ExistingObjects(), ())
    assert not result.adjustments
    assert result.rendered == renderer.render(policy, described, GUIDE_PROFILE)
    assert result.items == renderer.managed_items(policy, described, GUIDE_PROFILE)


def test_one_deny_refusing_several_flows_is_placed_once():
    """A drop of the whole range refuses the backup and every monitoring port: one block."""
    text = IPTABLES_MANGLE_DROP.replace(
        "*nat\n",
        "*nat\n-A PREROUTING -d 192.0.2.1 -p tcp -m tcp --dport 4403 -j DNAT --to-destination 192.168.1.10\n",
        1,
    )
    result, analysis = adjusted("iptables", text)
    assert len(analysis.shadowing) > 1
    filter_step = step(result, "Allow the backup traffic")
    assert filter_step.config.count("*mangle") == 1
    assert filter_step.reason.count("would otherwise block this connection first") == 1


# -- MikroTik ----------------------------------------------------------------------------------

MIKROTIK_CUSTOMER = (
    (DATA / "mikrotik" / "defconf.rsc")
    .read_text()
    .replace(
        "/ip firewall filter\n",
        """\
/ip firewall address-list
add address=203.0.113.0/25 list=cloud-backup
add address=203.0.113.128/25 list=cloud-backup
/ip firewall filter
add action=drop chain=forward comment="no cloud backup" dst-address-list=cloud-backup
""",
        1,
    )
)


def test_mikrotik_reuses_an_address_list_and_says_its_rule_goes_above_the_drop():
    result, reuse = blocked_with_one_reuse(
        "mikrotik", MIKROTIK_CUSTOMER, inside_interface="", outside_interface="", **NO_MONITORING
    )
    assert (reuse.ours.name, reuse.theirs.name) == ("obm-dc", "cloud-backup")
    outbound = step(result, "Allow the backup traffic out")
    assert "dst-address-list=cloud-backup" in outbound.config
    assert "list=obm-dc" not in outbound.config and "obm-dc" not in outbound.config
    assert "Uses your existing address list cloud-backup (line 27)" in outbound.reason
    assert "refuses this connection today and would otherwise block it first" in outbound.reason
    assert not any(item.key.startswith("dc-") for item in result.items)


def test_objects_named_like_ours_are_ours_not_the_customers():
    """A configuration that already holds our objects (an earlier rollout) does not have them
    "reused": they stay ours, so plans keep managing them."""
    text = FORTIGATE_CUSTOMER.replace('"LAN_BACKUP"', '"obm-host"').replace(
        '"SecuriData-DC"', '"obm-dc-203.0.113.0-24"'
    )
    result, _ = adjusted("fortigate", text, **FORTIGATE_SITE)
    assert [r.theirs.name for r in result.adjustments.reuses] == ["Backup-4401"]
    assert not any(item.customer_object.startswith("obm") for item in result.items)


# -- plans from a version applied from the adjusted instructions -------------------------------


def applied_check(vendor: str, text: str, **changes) -> tuple[AppliedCheck, object]:
    """What the portal stores when adjusted steps of a check of ``text`` are marked done (as
    JSON, read back), and the described site."""
    described = site(vendor=vendor, **changes)
    analysis = analyze(text, vendor, described, GUIDE_PROFILE)
    stored = AppliedCheck(vendor, 7, analysis.existing, analysis.shadowing).as_dict()
    restored = AppliedCheck.from_dict(json.loads(json.dumps(stored)))
    assert restored == AppliedCheck(vendor, 7, analysis.existing, analysis.shadowing)
    return restored, described


def plan_text(plan) -> str:
    return "\n".join(s.config for d in plan.documents for s in d.steps)


def test_removal_after_reuse_never_deletes_the_customers_objects_nor_ours_never_made():
    applied, described = applied_check("fortigate", FORTIGATE_CUSTOMER, **FORTIGATE_SITE)
    renderers = [get_renderer("fortigate")]
    plain = plan_text(plan_removal(described, GUIDE_PROFILE, renderers=renderers))
    assert 'delete "obm-host"' in plain  # the plain text created it
    removal = plan_text(
        plan_removal(described, GUIDE_PROFILE, renderers=renderers, applied=applied)
    )
    assert "delete <ID of obm-backup-out>" in removal
    for never_made in ('delete "obm-host"', 'delete "obm-dc"', 'delete "obm-tcp-4401"'):
        assert never_made not in removal
    for theirs in ("LAN_BACKUP", "SecuriData-DC", "Backup-4401"):
        assert theirs not in removal
    # A check of another vendor changes nothing in this vendor's plan.
    other = AppliedCheck("paloalto", 7, applied.existing, applied.shadowing)
    assert (
        plan_text(plan_removal(described, GUIDE_PROFILE, renderers=renderers, applied=other))
        == plain
    )


def test_a_change_after_reuse_keeps_using_the_customers_objects():
    """Monitoring on and off again: the rules keep naming the customer's objects; ours are
    neither created nor removed."""
    applied, described = applied_check("fortigate", FORTIGATE_CUSTOMER, **FORTIGATE_SITE)
    changed = dataclasses.replace(described, name="Renamed branch")
    text = plan_text(
        plan_change(
            described,
            GUIDE_PROFILE,
            changed,
            GUIDE_PROFILE,
            renderers=[get_renderer("fortigate")],
            applied=applied,
        )
    )
    assert '"LAN_BACKUP"' in text  # the changed policy still names it
    assert 'edit "obm-host"' not in text and 'delete "LAN_BACKUP"' not in text


def test_iptables_removal_after_placement_removes_the_copies_in_mangle():
    applied, described = applied_check("iptables", IPTABLES_MANGLE_DROP, **NO_MONITORING)
    renderers = [get_renderer("iptables")]
    plain = plan_text(plan_removal(described, GUIDE_PROFILE, renderers=renderers))
    assert "*mangle" not in plain
    removal = plan_text(
        plan_removal(described, GUIDE_PROFILE, renderers=renderers, applied=applied)
    )
    mangle = [  # outbound rules first, then the replies' accept (after every rule): two blocks
        line
        for block in removal.split("*mangle\n")[1:]
        for line in block.split("COMMIT")[0].splitlines()
    ]
    adjusted_config = step(
        adjusted("iptables", IPTABLES_MANGLE_DROP, **NO_MONITORING)[0], "Allow the backup"
    ).config
    copies = adjusted_config.split("*mangle\n")[1].split("COMMIT")[0].splitlines()[1:]
    # Exactly the copies the adjusted step inserted, each deleted by its specification.
    assert sorted(mangle) == sorted(
        "-D FORWARD " + line.split(" ", 3)[3] for line in copies if line.startswith("-I ")
    )
    assert len(mangle) == 2  # the replies' accept and the backup connection
    assert removal.count("-D FORWARD") == 4  # and ours in filter


def test_iptables_a_filter_drop_adds_no_items():
    text = IPTABLES_MANGLE_DROP.replace(
        "-A FORWARD -p tcp -m tcp --dport 4000:4999 -j DROP\n", ""
    ).replace("COMMIT\n*nat", "-A FORWARD -j DROP\nCOMMIT\n*nat")
    applied, described = applied_check("iptables", text, **NO_MONITORING)
    renderers = [get_renderer("iptables")]
    assert plan_removal(
        described, GUIDE_PROFILE, renderers=renderers, applied=applied
    ) == plan_removal(described, GUIDE_PROFILE, renderers=renderers)


NFT_BLOCKLIST = """\
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
	}
}
table ip blocklist {
	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		tcp dport 6881-6889 drop
		tcp dport 4000-4999 drop
	}
}
"""


def test_nftables_removal_after_placement_deletes_the_copies_by_their_comment():
    applied, described = applied_check("nftables", NFT_BLOCKLIST, **NO_MONITORING)
    plan = plan_removal(
        described, GUIDE_PROFILE, renderers=[get_renderer("nftables")], applied=applied
    )
    text = plan_text(plan)
    tag = "obm:" + described.name.lower().replace(" ", "-")
    assert f"obm_delete ip blocklist forward {tag}" in text
    copies = [line for line in text.splitlines() if line.startswith("obm_delete ip blocklist")]
    assert len(copies) == 2
    assert {line.rsplit(":", 1)[1] for line in copies} == {"established", "out-tcp-4401"}


def test_nftables_a_change_after_placement_inserts_new_copies_at_the_top_of_that_chain():
    """A new monitoring access added after adjusted instructions: its accept goes into the
    other base chain too (above the deny, at the top), besides ours."""
    applied, described = applied_check("nftables", NFT_BLOCKLIST, **NO_MONITORING)
    with_monitoring = site(vendor="nftables")
    plan = plan_change(
        described,
        GUIDE_PROFILE,
        with_monitoring,
        GUIDE_PROFILE,
        renderers=[get_renderer("nftables")],
        applied=applied,
    )
    text = plan_text(plan)
    assert "obm_insert ip blocklist forward" in text
    assert "obm_delete ip blocklist forward" not in text  # the copies that stay, stay
