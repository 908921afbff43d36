"""What several renderers promise alike, one parametrized test per promise over a table of what each
vendor writes for it. A vendor's own traps (line order, block shapes, counts) stay in its module."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from sites.description import GUIDE_PROFILE, ProfileSpec
from sites.policy import GuideRule, derive_rules
from sites.vendors import RENDERERS, get_renderer
from sites.vendors.base import Rendered, Step, StepKind
from sites.vendors.formats import config_file
from tests.sites.vendors.example_sites import (
    CHECK_SOURCE,
    DHCP,
    MONITORING,
    PORTAL_PROFILE,
    RESPONDER,
    load_example,
    make_site,
    render,
    render_for,
)

ANY_SOURCE: dict[str, Any] = {**MONITORING, "monitoring_sources": []}
CHECKPOINT_HIDE = (
    'nat-settings.auto-rule true nat-settings.method "hide" nat-settings.hide-behind "gateway"'
)


@dataclass(frozen=True)
class Expect:
    """What one vendor writes for one promise: text that must be there and text that must not, in
    the whole configuration file or, with ``step``, in the first step whose title contains it."""

    slug: str
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    step: str | None = None
    kind: StepKind | None = None
    example: str | None = None  # render this docs/examples site instead of the variation

    def rendered(self, profile: ProfileSpec = GUIDE_PROFILE, **changes: Any) -> Rendered:
        if self.example:
            return render(self.slug, load_example(self.example), profile)
        return render_for(self.slug, profile, **changes)

    def step_of(self, rendered: Rendered) -> Step:
        return next(s for s in rendered.steps if self.step and self.step in s.title)

    def check(self, profile: ProfileSpec = GUIDE_PROFILE, **changes: Any) -> None:
        rendered = self.rendered(profile, **changes)
        text = self.step_of(rendered).config if self.step else config_file(rendered)
        for needle in self.present:
            assert needle in text, f"{self.slug}: {needle!r} missing from\n{text}"
        for needle in self.absent:
            assert needle not in text, f"{self.slug}: {needle!r} must not be in\n{text}"


def by_slug(table: list[Expect]):
    return pytest.mark.parametrize("expect", table, ids=[e.slug for e in table])


# -- Capabilities: ranges, whether the LAN is hidden by default, the interfaces assumed ----------

CAPABILITIES: dict[str, tuple[bool, bool, tuple[str, str] | None]] = {
    "checkpoint": (True, False, None),
    "cisco-asa": (True, False, ("inside", "outside")),
    "cisco-ios": (False, False, ("GigabitEthernet0/1", "GigabitEthernet0/0")),
    "edgeos": (True, True, ("eth1", "eth0")),
    "fortigate": (True, False, ("internal", "wan1")),
    "generic": (True, True, None),
    "iptables": (True, False, ("lan0", "wan0")),
    "juniper-srx": (True, False, None),  # zones, not interfaces
    "meraki": (False, True, None),
    "mikrotik": (True, True, ("LAN", "WAN")),
    "nftables": (True, False, ("lan0", "wan0")),
    "opnsense": (True, True, ("LAN", "WAN")),
    "paloalto": (True, False, ("ethernet1/2", "ethernet1/1")),
    "pf": (True, False, ("em1", "em0")),
    "pfsense": (True, True, ("LAN", "WAN")),
    "sonicwall": (True, True, ("X0", "X1")),
    "sophos": (True, True, ("Port1", "Port2")),
    "watchguard": (True, True, ("Trusted", "External")),
    "windows": (True, False, None),
}


def test_every_renderer_has_its_capabilities_listed():
    assert set(CAPABILITIES) == set(RENDERERS)


@pytest.mark.parametrize("slug", sorted(CAPABILITIES))
def test_renderer_declares_its_capabilities(slug):
    renderer = get_renderer(slug)
    supports_ranges, hides_lan, interfaces = CAPABILITIES[slug]
    assert renderer.supports_ranges is supports_ranges
    assert renderer.hides_lan_by_default is hides_lan
    assert renderer.default_interfaces == interfaces


# -- Transparency (guide rule 2): a change where the LAN is not hidden by default, else a check --

TRANSPARENCY = [
    Expect(
        "checkpoint",
        step="transparency",
        kind=StepKind.CHANGE,
        present=(f'add host name "obm-host" ip-address "192.168.1.10" {CHECKPOINT_HIDE}',),
    ),
    Expect(
        "fortigate",
        step="transparency",
        kind=StepKind.CHANGE,
        present=("set nat enable", 'set service "obm-tcp-4401"'),
    ),
    Expect("generic", step="transparency", kind=StepKind.CHECK),
    Expect(
        "opnsense",
        step="outbound NAT",
        kind=StepKind.CHECK,
        present=(
            "Automatic outbound NAT rule generation",
            "Only if the mode is Manual",
            "Translation / target: Interface address",
            "Destination address: OBM_DC, Destination port: (other) 4401",
        ),
    ),
    Expect(
        "pfsense",
        step="outbound NAT",
        kind=StepKind.CHECK,
        present=(
            "Automatic outbound NAT rule generation",
            "Only if the mode is Manual",
            "Source: Network — 192.168.1.10 / 32, Port: any",
            "Destination: Network — OBM_DC, Port: 4401",
            "Translation Address: Interface Address",
        ),
    ),
    Expect(
        "sonicwall",
        step="Check that the LAN is translated",
        kind=StepKind.CHECK,
        present=("Original Source: X0 Subnet, Translated Source: X1 IP",),
    ),
    Expect(
        "sophos",
        step="Check that the backup connection is masqueraded",
        kind=StepKind.CHECK,
        present=("Default SNAT IPv4", "MASQ"),
    ),
    Expect(
        "watchguard",
        step="Check that dynamic NAT covers",
        kind=StepKind.CHECK,
        present=("inside the default entry 192.168.0.0/16 - Any-External",),
    ),
]


@by_slug(TRANSPARENCY)
def test_transparency_step(expect):
    step = expect.step_of(render_for(expect.slug))
    assert step.kind is expect.kind
    assert GuideRule.TRANSPARENCY in step.guide_rules
    assert (step.kind is StepKind.CHECK) is get_renderer(expect.slug).hides_lan_by_default
    expect.check()


# -- A DHCP host: the whole LAN is the source -----------------------------------------------------

DHCP_SOURCE = [
    Expect(
        "checkpoint",
        present=(
            f'add network name "obm-lan" subnet "192.168.1.0" mask-length 24 {CHECKPOINT_HIDE}',
            'source "obm-lan"',
        ),
    ),
    Expect(
        "cisco-ios", present=("permit tcp 192.168.1.0 0.0.0.255 203.0.113.0 0.0.0.255 eq 4401",)
    ),
    Expect("edgeos", present=("set firewall name LAN_IN rule 4401 source address 192.168.1.0/24",)),
    Expect("fortigate", present=("set subnet 192.168.1.0 255.255.255.0", 'set srcaddr "obm-lan"')),
    Expect("iptables", present=("-s 192.168.1.0/24 -d 203.0.113.0/24",)),
    Expect(
        "juniper-srx",
        present=(
            "set security address-book global address obm-lan 192.168.1.0/24",
            "match source-address obm-lan",
        ),
    ),
    Expect("mikrotik", present=("src-address=192.168.1.0/24 dst-address-list=obm-dc",)),
    Expect("nftables", present=("ip saddr 192.168.1.0/24 ip daddr 203.0.113.0/24",)),
    Expect(
        "opnsense",
        step="Allow TCP 4401",
        present=("Source: Single host or Network — 192.168.1.0/24 (the whole LAN",),
    ),
    Expect(
        "paloalto",
        present=(
            "set address obm-lan description obm:test-site:lan ip-netmask 192.168.1.0/24",
            "source obm-lan",
        ),
    ),
    Expect(
        "pfsense",
        step="Allow TCP 4401",
        present=("Source: Network — 192.168.1.0/24 (the whole LAN",),
    ),
]


@by_slug(DHCP_SOURCE)
def test_dhcp_source_is_the_lan(expect):
    expect.check(**DHCP)


# -- Monitoring from any source: no source object, "any" where a source is named -----------------

ANY_MONITORING_SOURCE = [
    Expect("checkpoint", present=('original-source "Any"',), absent=("obm-monitors",)),
    Expect(
        "cisco-asa",
        present=("extended permit udp any object obm-host-udp-4403 eq 4403",),
        absent=("object-group network obm-monitoring",),
    ),
    Expect("cisco-ios", present=(" 2 permit udp any host 192.0.2.1 eq 4403",)),
    Expect("edgeos", absent=("obm-monitoring", "source group")),
    Expect("fortigate", present=('set srcaddr "all"',), absent=("src-filter",)),
    Expect("mikrotik", absent=("obm-monitoring",)),
    Expect("opnsense", step="Forward the monitoring ports", present=("Source (Advanced): any",)),
    Expect(
        "pfsense",
        step="Forward the monitoring ports",
        present=("Source (Display Advanced): any",),
    ),
    Expect("sonicwall", step="Allow the monitoring connections in", present=("Source: Any",)),
    Expect(
        "watchguard", step="Allow the monitoring connections in", present=("From: Any-External",)
    ),
]


@by_slug(ANY_MONITORING_SOURCE)
def test_monitoring_from_any_source(expect):
    expect.check(**ANY_SOURCE)


# -- Without monitoring: nothing inbound at all ----------------------------------------------------

NO_INBOUND = [
    Expect("cisco-asa", absent=("static interface", "outside_access_in", "obm-monitoring")),
    Expect("cisco-ios", absent=("source static", "OUTSIDE-IN")),
    Expect("iptables", absent=("DNAT", "PREROUTING", "-i wan0 -o lan0")),
    Expect("mikrotik", absent=("dstnat", "obm-monitoring")),
    Expect("nftables", absent=("dnat", "prerouting")),
]


@by_slug(NO_INBOUND)
def test_no_inbound_configuration_without_monitoring(expect):
    expect.check()


# -- TCP and UDP 4403 are two services (one object per protocol, or one listing both) --------------

TCP_AND_UDP_4403 = [
    Expect(
        "checkpoint",
        present=(
            'mgmt_cli add service-tcp name "obm-tcp-4403" port 4403 '
            'comments "obm:test-site:tcp-4403" -s id.txt',
            'mgmt_cli add service-udp name "obm-udp-4403" port 4403 '
            'comments "obm:test-site:udp-4403" -s id.txt',
        ),
    ),
    Expect(
        "sophos",
        example="monitoring",
        step="Create the services",
        present=(
            "Name: obm:head-office-monitored:svc-monitoring | Type: TCP/UDP",
            "Protocol: TCP | Source port: 1:65535 | Destination port: 4403",
            "Protocol: UDP | Source port: 1:65535 | Destination port: 4403",
            "Protocol: TCP | Source port: 1:65535 | Destination port: 4401",
        ),
    ),
    Expect(
        "watchguard",
        example="monitoring",
        step="Create the custom policy templates",
        present=(
            "Name: OBM-Monitoring | Type: Packet Filter",
            "Protocol: TCP | Server Port: 4403",
            "Protocol: UDP | Server Port: 4403",
        ),
    ),
]


@by_slug(TCP_AND_UDP_4403)
def test_tcp_and_udp_4403_are_both_written(expect):
    expect.check(**MONITORING)


# -- pf-based firewalls: verification reads pf's state table, outbound first, then inbound --------

PF_VERIFICATION: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "opnsense": (
        (
            "Firewall › Diagnostics › States",
            "Firewall › Log Files › Live View",
            "pfctl -ss | grep 4401",
        ),
        ("pfctl -ss | grep -E '192.168.1.10:(4403|4401)'",),
    ),
    "pf": (
        ("pfctl -ss | grep 4401", "tcpdump -n -e -ttt -i pflog0 'port 4401'"),
        ("pfctl -ss | grep -E '192.168.1.10:(4403|4401)'",),
    ),
    "pfsense": (
        ("pfctl -ss | grep 4401",),
        ("pfctl -ss | grep -E '192.168.1.10:(4403|4401)'",),
    ),
}


@pytest.mark.parametrize("slug", sorted(PF_VERIFICATION))
def test_pf_verification_reads_the_state_table(slug):
    verify = [s for s in render_for(slug, **MONITORING).steps if s.kind is StepKind.VERIFY]
    for step, needles in zip(verify, PF_VERIFICATION[slug], strict=False):
        for needle in needles:
            assert needle in step.verify, f"{slug}: {needle!r} missing from\n{step.verify}"
    assert len(verify) >= len(PF_VERIFICATION[slug])


# -- Probe addressing (#13, point 7): the steps name where the probes go and come from, and a
# restriction to the monitoring sources lets the portal's inbound checks in ----------------------

FIREWALLS = sorted(slug for slug, r in RENDERERS.items() if r.describes_firewall)


@pytest.mark.parametrize("slug", FIREWALLS)
def test_verify_steps_name_the_probe_addresses(slug):
    verify = [
        s for s in render_for(slug, PORTAL_PROFILE, **MONITORING).steps if s.kind is StepKind.VERIFY
    ]
    outbound, inbound = verify[0], verify[1]
    assert f"to the portal's probe responder {RESPONDER}" in outbound.reason, outbound.reason
    assert f"The portal connects from {CHECK_SOURCE} to your public address" in inbound.reason
    assert f"let the portal's address {CHECK_SOURCE} in" in inbound.reason


@pytest.mark.parametrize("slug", FIREWALLS)
def test_without_known_probe_addresses_the_steps_say_so(slug):
    """A profile that does not know the addresses (a profile file) promises no address: the
    restricted site is told to let the portal's address in itself."""
    verify = [s for s in render_for(slug, **MONITORING).steps if s.kind is StepKind.VERIFY]
    assert "probe responder" not in verify[0].reason
    assert "ask your provider for it" in verify[1].reason
    assert str(CHECK_SOURCE) not in config_file(render_for(slug, **MONITORING))


# What each vendor writes to let the portal's check source (198.51.100.200) in.
CHECK_SOURCE_ALLOWED = [
    Expect(
        "checkpoint",
        present=('ip-address "198.51.100.200"', 'members.2 "obm-check-198.51.100.200-32"'),
    ),
    Expect(
        "cisco-asa",
        present=("host 198.51.100.200", "network-object object obm-check-198.51.100.200-32"),
    ),
    Expect("cisco-ios", present=("permit tcp host 198.51.100.200 host 192.0.2.1 eq 4403",)),
    Expect("edgeos", present=("address-group obm-monitoring address 198.51.100.200",)),
    Expect(
        "fortigate",
        present=(
            "set subnet 198.51.100.200 255.255.255.255",
            'set src-filter "198.51.100.7/32" "198.51.100.200/32"',
        ),
    ),
    Expect(
        "generic",
        present=(
            "TCP 4403 from 198.51.100.7/32, 198.51.100.200/32 (portal's inbound check "
            "198.51.100.200) to the backup host",
        ),
    ),
    Expect(
        "iptables",
        present=(
            "-i wan0 -s 198.51.100.200/32 -d 192.0.2.1/32 -p udp",
            "-s 198.51.100.200/32 -d 192.168.1.10/32 -p udp",
        ),
    ),
    Expect(
        "juniper-srx",
        present=(
            "policy obm-monitoring-in match source-address obm-check-198.51.100.200-32",
            "match source-address 198.51.100.200/32",
        ),
    ),
    Expect("meraki", present=("Allowed remote IPs: 198.51.100.7/32, 198.51.100.200/32",)),
    Expect("mikrotik", present=("add list=obm-monitoring address=198.51.100.200",)),
    Expect(
        "nftables",
        present=("ip saddr { 198.51.100.7, 198.51.100.200 } ip daddr 192.0.2.1 udp dport 4403",),
    ),
    Expect("opnsense", present=("Content: 198.51.100.7/32 198.51.100.200/32",)),
    Expect(
        "paloalto",
        present=(
            "ip-netmask 198.51.100.200/32",
            "set address-group obm-mon static obm-check-198.51.100.200-32",
        ),
    ),
    Expect("pf", present=("table <obm_monitor> { 198.51.100.7, 198.51.100.200 }",)),
    Expect("pfsense", present=("Entry: 198.51.100.200 / 32",)),
    Expect(
        "sonicwall",
        present=("host 198.51.100.200 zone WAN", "Source: obm:test-site:check-198.51.100.200-32"),
    ),
    Expect("sophos", present=("Type: IP | IP address: 198.51.100.200",)),
    Expect("watchguard", present=("From: only Host IP 198.51.100.7, Host IP 198.51.100.200",)),
    # The backup host's own firewall, and its route back through the firewall (multi-homed).
    Expect(
        "windows",
        example="multihomed-windows",
        present=(
            "-RemoteAddress 198.51.100.7/32,198.51.100.200/32",
            "New-NetRoute -DestinationPrefix 198.51.100.200/32",
        ),
    ),
]


def test_every_renderer_lets_the_check_source_in():
    assert sorted(e.slug for e in CHECK_SOURCE_ALLOWED) == sorted(RENDERERS)


@by_slug(CHECK_SOURCE_ALLOWED)
def test_restricted_monitoring_lets_the_portal_check_in(expect):
    expect.check(profile=PORTAL_PROFILE, **MONITORING)


@pytest.mark.parametrize("slug", FIREWALLS)
def test_monitoring_from_any_source_names_no_check_source(slug):
    """From any address the portal's checks get in anyway: no extra source, no notice."""
    rendered = render_for(slug, PORTAL_PROFILE, **ANY_SOURCE)
    assert str(CHECK_SOURCE) not in config_file(rendered)
    assert "portal_checks_allowed" not in [w.code for w in rendered.warnings]


@pytest.mark.parametrize("slug", FIREWALLS)
def test_no_step_says_only_the_monitoring_computers_get_in_when_the_portal_does_too(slug):
    reasons = [s.reason for s in render_for(slug, PORTAL_PROFILE, **MONITORING).steps]
    for sentence in ("Only the monitoring computers may", "Only the monitoring sources may"):
        assert not [r for r in reasons if sentence in r], slug
    guide_reasons = [s.reason for s in render_for(slug, **MONITORING).steps]
    if any("Only the monitoring" in r for r in guide_reasons):  # the vendor says who gets in
        assert any(f"the portal's checks (from {CHECK_SOURCE}) may connect" in r for r in reasons)


# How each vendor names the portal's check source (198.51.100.200) where it lets it in: its own
# object, comment, remark or description says it is the portal's check, never a monitoring
# computer; where it only shares a group or rule with the monitoring computers, that group's or
# rule's text names it. ``absent``: what the vendor wrote before (#13, point 7).
CHECK_SOURCE_NAMED = [
    Expect(
        "checkpoint",
        present=(
            'add host name "obm-check-198.51.100.200-32" ip-address "198.51.100.200" '
            'comments "obm:test-site:check-198.51.100.200-32"',
        ),
        absent=("obm-mon-198.51.100.200",),
    ),
    Expect(
        "cisco-asa",
        present=(
            "object network obm-check-198.51.100.200-32\n host 198.51.100.200\n"
            " description obm:test-site:check-198.51.100.200-32",
        ),
        absent=("obm-monitoring-198.51.100.200",),
    ),
    Expect(
        "cisco-ios",
        present=(
            "in-tcp-4403-from-198.51.100.200-32 portal check -> backup host, TCP 4403",
            "reply-udp-4403-to-198.51.100.200-32 portal check replies, UDP 4403",
        ),
        absent=("198.51.100.200-32 monitoring",),
    ),
    Expect(
        "edgeos",
        present=(
            "address-group obm-monitoring description "
            "'obm:test-site:monitoring with portal inbound check 198.51.100.200'",
        ),
    ),
    Expect(
        "fortigate",
        present=(
            'edit "obm-check-198.51.100.200-32"',
            'set comment "obm:test-site:check-198.51.100.200-32 Portal\'s inbound check"',
            'set comment "obm:test-site:mon Monitoring computers plus the portal\'s inbound check"',
        ),
        absent=("obm-mon-198.51.100.200", "check-198.51.100.200-32 Monitoring GUI"),
    ),
    Expect(
        "generic",
        present=(
            "from 198.51.100.7/32, 198.51.100.200/32 (portal's inbound check 198.51.100.200)",
        ),
    ),
    Expect(
        "iptables",
        present=("# Guide rule 4: monitoring GUI and portal's checks -> backup host, UDP 4403.",),
        absent=("monitoring GUI -> backup host",),
    ),
    Expect(
        "juniper-srx",
        present=(
            "address obm-check-198.51.100.200-32 description "
            '"obm:test-site:check-198.51.100.200-32"',
        ),
        absent=("obm-mon-198.51.100.200",),
    ),
    Expect(
        "meraki",
        present=(
            "Description: obm:test-site:dnat-udp-4403 Online backup monitoring UDP 4403 with "
            "portal inbound check",
        ),
    ),
    Expect(
        "mikrotik",
        present=(
            'add list=obm-monitoring address=198.51.100.200 comment="obm:test-site:check-'
            '198.51.100.200-32"',
        ),
        absent=("mon-198.51.100.200",),
    ),
    Expect(
        "nftables",
        present=("# Guide rule 4: monitoring GUI and portal's checks -> backup host, UDP 4403.",),
        absent=("monitoring GUI -> backup host",),
    ),
    Expect(
        "opnsense",
        present=(
            "Description: obm:test-site:alias-monitoring SecuriData Online Backup: monitoring "
            "computers plus the portal's inbound check",
        ),
    ),
    Expect(
        "paloalto",
        present=(
            "set address obm-check-198.51.100.200-32 description "
            "obm:test-site:check-198.51.100.200-32 ip-netmask 198.51.100.200/32",
        ),
        absent=("obm-mon-198.51.100.200",),
    ),
    Expect(
        "pf",
        present=("# Guide rule 4: monitoring GUI and portal's checks -> backup host, TCP 4401.",),
        absent=("monitoring GUI -> backup host",),
    ),
    Expect(
        "pfsense",
        present=(
            "Entry: 198.51.100.200 / 32    Description: Portal's inbound check",
            "SecuriData Online Backup: monitoring computers plus the portal's inbound check",
        ),
    ),
    Expect(
        "sonicwall",
        present=(
            'address-object ipv4 "obm:test-site:check-198.51.100.200-32" host 198.51.100.200',
            "Comment: obm:test-site:in-monitoring-from-198.51.100.200-32 SecuriData Online Backup "
            "(portal's inbound check)",
        ),
        absent=("mon-198.51.100.200",),
    ),
    Expect(
        "sophos",
        present=(
            "Name: obm:test-site:check-198.51.100.200-32 | IP version: IPv4 | Type: IP | "
            "IP address: 198.51.100.200",
            "Description: SecuriData Online Backup: monitoring sources plus the portal's inbound "
            "check",
        ),
        absent=("mon-198.51.100.200",),
    ),
    Expect(
        "watchguard",
        present=(
            "Description: obm:test-site:in-monitoring SecuriData Online Backup: monitoring GUI and "
            "portal's checks to the backup host",
        ),
    ),
    Expect(
        "windows",
        example="multihomed-windows",
        present=(
            "-RemoteAddress 198.51.100.7/32,198.51.100.200/32 -Description 'SecuriData Online "
            "Backup: the monitoring GUI plus the portal''s inbound check 198.51.100.200'",
        ),
    ),
]


def test_every_renderer_names_the_check_source():
    assert sorted(e.slug for e in CHECK_SOURCE_NAMED) == sorted(RENDERERS)


@by_slug(CHECK_SOURCE_NAMED)
def test_the_check_source_is_named_as_the_portals_check(expect):
    expect.check(profile=PORTAL_PROFILE, **MONITORING)


# "monitoring computers", "monitoring GUI", "monitoring sources", unless the text goes on to name
# the portal's check beside them.
_ONLY_MONITORING = re.compile(
    r"monitoring (?:computers|computer|GUI|sources|source)\b(?! (?:plus the portal|and portal))",
    re.IGNORECASE,
)


@pytest.mark.parametrize("slug", sorted(RENDERERS))
def test_no_item_holding_the_check_source_calls_it_a_monitoring_computer(slug):
    """Every item the plans create or remove that holds the portal's check source: an item of
    its own (no monitoring computer in it) says it is the portal's check and never speaks of
    monitoring computers; a shared one speaks of monitoring computers only with the portal's
    check beside them."""
    renderer = RENDERERS[slug]
    site = (
        make_site(vendor=slug, **MONITORING)
        if renderer.describes_firewall
        else load_example("multihomed-windows")
    )
    policy = derive_rules(site, PORTAL_PROFILE)
    holding = [
        item
        for item in renderer.managed_items(policy, site, PORTAL_PROFILE)
        if str(CHECK_SOURCE) in item.title + item.create
    ]
    assert holding, slug
    for item in holding:
        text = f"{item.key}\n{item.title}\n{item.create}"
        assert not _ONLY_MONITORING.search(text), (slug, item.key, text)
        if "198.51.100.7" not in text:  # the check source's own item, keyed by its address
            assert "198.51.100.200-32" in item.key, (slug, item.key)
            assert "portal" in item.title.lower(), (slug, item.title)
