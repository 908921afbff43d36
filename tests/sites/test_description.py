"""Site files and service profiles: validation names the field, and to_dict round-trips."""

from __future__ import annotations

import json
import subprocess
import sys
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from sites.description import (
    FIREWALL_VENDORS,
    GUIDE_PROFILE,
    DescriptionError,
    PortSpec,
    ProfileSpec,
    SiteDescription,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "docs" / "examples").glob("*.json"))

VALID = {
    "name": "Head office",
    "vendor": "iptables",
    "lan_network": "192.168.1.0/24",
    "lan_gateway": "192.168.1.1",
    "host_addressing": "static",
    "host_address": "192.168.1.10",
}

INTERFACES = [
    {
        "name": "Ethernet",
        "index": 12,
        "address": "192.168.1.10",
        "network": "192.168.1.0/24",
        "gateway": "192.168.1.1",
    },
    {
        "name": "Ethernet 2",
        "index": 15,
        "address": "192.168.2.10",
        "network": "192.168.2.0/24",
        "gateway": "192.168.2.1",
    },
]


def errors_for(data: dict) -> dict[str, list[str]]:
    with pytest.raises(DescriptionError) as caught:
        SiteDescription.from_dict(data)
    return caught.value.errors


def site_errors(**changes) -> dict[str, list[str]]:
    data = {**VALID, **changes}
    return errors_for({k: v for k, v in data.items() if v is not None})


def test_valid_site_parses_with_defaults():
    site = SiteDescription.from_dict(VALID)
    assert site.host_address == IPv4Address("192.168.1.10")
    assert site.lan_network == IPv4Network("192.168.1.0/24")
    assert site.public_address is None  # dynamic
    assert site.monitoring_sources == ()
    assert site.host_os == "other"
    assert site.firmware == site.inside_interface == site.outside_interface == ""


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_valid_and_round_trip(path):
    data = json.loads(path.read_text())
    site = SiteDescription.from_dict(data)
    again = SiteDescription.from_dict(json.loads(json.dumps(site.to_dict())))
    assert again == site
    assert again.to_dict() == site.to_dict()


def test_all_five_examples_exist():
    assert {p.stem for p in EXAMPLES} >= {
        "static-host",
        "dhcp-host",
        "range-hosts",
        "monitoring",
        "multihomed-windows",
    }


def test_to_dict_is_json_friendly():
    site = SiteDescription.from_dict(
        {
            **VALID,
            "monitoring_enabled": True,
            "monitoring_sources": ["198.51.100.7"],
            "public_address": "192.0.2.1",
            "multi_homed": True,
            "host_interfaces": INTERFACES,
            "firewall_interface": "Ethernet",
            "host_os": "windows",
        }
    )
    data = site.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["monitoring_sources"] == ["198.51.100.7/32"]  # a bare address is a /32
    assert SiteDescription.from_dict(data) == site


def test_unknown_vendor():
    errors = site_errors(vendor="acme-wall")
    assert "vendor" in errors
    assert "acme-wall" in errors["vendor"][0]


def test_accepted_vendors_are_the_firewall_renderers():
    from sites.vendors import vendor_choices

    assert {slug for slug, _ in vendor_choices()} == FIREWALL_VENDORS


def test_the_description_imports_no_renderer_nor_django():
    """The pure core stands alone: no circle through ``sites.vendors``, no Django."""
    code = (
        "import sys, sites.description, sites.site_fields; "
        "print(sorted(m for m in sys.modules if m.startswith(('sites.vendors', 'django'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_windows_is_a_host_renderer_not_a_firewall_vendor():
    assert "vendor" in site_errors(vendor="windows")


@pytest.mark.parametrize(
    "value", ["192.168.1.0/33", "192.168.1.0/abc", "not a network", "192.168.1.0"]
)
def test_bad_cidr(value):
    assert "lan_network" in site_errors(lan_network=value)


def test_cidr_with_host_bits_suggests_the_network():
    errors = site_errors(lan_network="192.168.1.5/24")
    assert "192.168.1.0/24" in errors["lan_network"][0]


@pytest.mark.parametrize("value", ["192.168.1.300", "host", "192.168.1"])
def test_bad_address(value):
    assert "host_address" in site_errors(host_address=value)


def test_ipv6_is_refused_clearly():
    errors = site_errors(host_address="2001:db8::10")
    assert "IPv6" in errors["host_address"][0]


def test_host_outside_lan():
    errors = site_errors(host_address="10.0.0.10")
    assert "not inside the LAN" in errors["host_address"][0]


def test_gateway_outside_lan():
    assert "lan_gateway" in site_errors(lan_gateway="10.0.0.1")


def test_host_cannot_be_the_gateway():
    assert "host_address" in site_errors(host_address="192.168.1.1")


def test_host_cannot_be_the_broadcast_address():
    assert "host_address" in site_errors(host_address="192.168.1.255")


def test_static_needs_host_address():
    assert "host_address" in site_errors(host_address=None)


def test_range_needs_both_ends():
    errors = site_errors(host_addressing="range", host_address=None)
    assert {"host_range_start", "host_range_end"} <= errors.keys()


def test_range_start_after_end():
    errors = site_errors(
        host_addressing="range", host_range_start="192.168.1.20", host_range_end="192.168.1.10"
    )
    assert "host_range_end" in errors


def test_range_outside_lan():
    errors = site_errors(
        host_addressing="range", host_range_start="192.168.1.10", host_range_end="192.168.2.20"
    )
    assert list(errors) == ["host_range_end"]


def test_monitoring_with_dhcp_needs_the_reserved_address():
    errors = site_errors(host_addressing="dhcp", host_address=None, monitoring_enabled=True)
    assert "host_address" in errors


def test_dhcp_without_monitoring_needs_no_address():
    site = SiteDescription.from_dict({**VALID, "host_addressing": "dhcp", "host_address": None})
    assert site.host_address is None


@pytest.mark.parametrize("value", ["198.51.100.7/24", "198.51.100.999", 7, "::1"])
def test_monitoring_sources_malformed(value):
    errors = site_errors(monitoring_enabled=True, monitoring_sources=["198.51.100.8", value])
    assert list(errors) == ["monitoring_sources.1"]


def test_monitoring_sources_must_be_a_list():
    assert "monitoring_sources" in site_errors(monitoring_sources="198.51.100.7")


def test_public_address_inside_lan():
    assert "public_address" in site_errors(public_address="192.168.1.50")


@pytest.mark.parametrize(
    "field", ["name", "vendor", "lan_network", "lan_gateway", "host_addressing"]
)
def test_missing_required_field(field):
    errors = site_errors(**{field: None})
    assert errors[field] == ["This field is required."]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 5),
        ("monitoring_enabled", "yes"),
        ("multi_homed", 1),
        ("lan_network", 24),
        ("host_address", 3232235786),
        ("host_interfaces", {"name": "x"}),
        ("host_os", ["windows"]),
    ],
)
def test_wrong_type(field, value):
    assert field in site_errors(**{field: value})


def test_unknown_host_os():
    assert "host_os" in site_errors(host_os="beos")


def test_unknown_field_is_reported():
    assert site_errors(hostaddress="192.168.1.10")["hostaddress"] == ["Unknown field."]


def test_not_an_object():
    with pytest.raises(DescriptionError) as caught:
        SiteDescription.from_dict(["not", "a", "dict"])
    assert caught.value.errors


def test_all_errors_are_collected():
    errors = site_errors(
        name=None,
        vendor="acme",
        lan_gateway="10.0.0.1",
        host_address="10.0.0.2",
        monitoring_enabled="yes",
        monitoring_sources=["bad"],
    )
    assert {
        "name",
        "vendor",
        "lan_gateway",
        "host_address",
        "monitoring_enabled",
        "monitoring_sources.0",
    } <= errors.keys()


def multi_homed(interfaces, facing="Ethernet"):
    return site_errors(
        multi_homed=True, host_os="windows", host_interfaces=interfaces, firewall_interface=facing
    )


def test_interface_gateway_outside_its_network():
    interfaces = [INTERFACES[0], {**INTERFACES[1], "gateway": "192.168.9.1"}]
    errors = multi_homed(interfaces)
    assert list(errors) == ["host_interfaces.1.gateway"]


def test_interface_address_outside_its_network():
    interfaces = [INTERFACES[0], {**INTERFACES[1], "address": "10.1.1.1"}]
    assert "host_interfaces.1.address" in multi_homed(interfaces)


@pytest.mark.parametrize("index", [0, -3, "12", True])
def test_interface_index_must_be_a_positive_number(index):
    interfaces = [INTERFACES[0], {**INTERFACES[1], "index": index}]
    assert "host_interfaces.1.index" in multi_homed(interfaces)


def test_interface_missing_field():
    interfaces = [INTERFACES[0], {k: v for k, v in INTERFACES[1].items() if k != "network"}]
    assert "host_interfaces.1.network" in multi_homed(interfaces)


def test_multi_homed_needs_two_interfaces():
    assert "host_interfaces" in multi_homed(INTERFACES[:1])


def test_firewall_interface_must_name_an_interface():
    assert "firewall_interface" in multi_homed(INTERFACES, facing="Wi-Fi")
    assert "firewall_interface" in multi_homed(INTERFACES, facing=None)


def test_facing_interface_must_be_on_the_lan_and_have_a_gateway():
    errors = multi_homed(INTERFACES, facing="Ethernet 2")
    assert "host_interfaces.1.network" in errors
    interfaces = [{**INTERFACES[0], "gateway": None}, INTERFACES[1]]
    assert "host_interfaces.0.gateway" in multi_homed(interfaces)


def test_error_message_summarises_fields():
    with pytest.raises(DescriptionError) as caught:
        SiteDescription.from_dict({**VALID, "vendor": "acme"})
    assert "vendor:" in str(caught.value)


# Service profiles


def profile_errors(**changes) -> dict[str, list[str]]:
    data = {**GUIDE_PROFILE.to_dict(), **changes}
    with pytest.raises(DescriptionError) as caught:
        ProfileSpec.from_dict(data)
    return caught.value.errors


def test_guide_profile_matches_the_guide():
    assert GUIDE_PROFILE.outbound_ports == (PortSpec("tcp", 4401),)
    assert GUIDE_PROFILE.monitoring_ports == (PortSpec("tcp", 4403), PortSpec("udp", 4403))
    assert GUIDE_PROFILE.datacenter_networks == (IPv4Network("203.0.113.0/24"),)


def test_profile_round_trips():
    assert ProfileSpec.from_dict(GUIDE_PROFILE.to_dict()) == GUIDE_PROFILE
    data = {**GUIDE_PROFILE.to_dict(), "datacenter_fqdns": ["backup.example.net"]}
    assert ProfileSpec.from_dict(data).to_dict() == data


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_profile_port_out_of_range(port):
    errors = profile_errors(outbound_ports=[{"protocol": "tcp", "port": port}])
    assert "out of range" in errors["outbound_ports.0.port"][0]


@pytest.mark.parametrize("port", ["4401", 4401.0, True])
def test_profile_port_must_be_a_whole_number(port):
    assert "outbound_ports.0.port" in profile_errors(
        outbound_ports=[{"protocol": "tcp", "port": port}]
    )


def test_profile_unknown_protocol():
    errors = profile_errors(
        monitoring_ports=[{"protocol": "tcp", "port": 4403}, {"protocol": "icmp", "port": 4403}]
    )
    assert list(errors) == ["monitoring_ports.1.protocol"]


def test_profile_duplicate_port():
    errors = profile_errors(outbound_ports=[{"protocol": "tcp", "port": 4401}] * 2)
    assert "outbound_ports.1" in errors


def test_profile_requires_networks_and_outbound_ports():
    errors = profile_errors(datacenter_networks=[], outbound_ports=None, name="")
    assert {"datacenter_networks", "outbound_ports", "name"} <= errors.keys()


def test_profile_bad_network_and_fqdn_collected():
    errors = profile_errors(
        datacenter_networks=["203.0.113.0/24", "203.0.113.7/24"],
        datacenter_fqdns=["backup example.net"],
    )
    assert {"datacenter_networks.1", "datacenter_fqdns.0"} <= errors.keys()


def test_a_blank_or_overlong_name_is_refused():
    from sites.description import DescriptionError, SiteDescription
    from tests.sites.vendors.example_sites import BASE_SITE

    for name, message in (("   ", "required"), ("x" * 121, "120 characters")):
        with pytest.raises(DescriptionError) as error:
            SiteDescription.from_dict({**BASE_SITE, "name": name})
        assert message in " ".join(error.value.errors["name"])


def test_the_site_fields_table_has_one_row_per_description_field_in_site_file_order():
    from sites.policy import GuideRule
    from sites.site_fields import INTERFACE_FIELDS, REVERIFY, SECTIONS, SITE_FIELDS

    site = SiteDescription.from_dict(
        {
            **VALID,
            "multi_homed": True,
            "host_interfaces": INTERFACES,
            "firewall_interface": "Ethernet",
        }
    )
    assert [f.name for f in SITE_FIELDS] == list(site.to_dict())
    assert [f.name for f in INTERFACE_FIELDS] == list(site.host_interfaces[0].to_dict())
    asked = [name for section in SECTIONS for name in section.names]
    assert sorted(asked) == sorted([*site.to_dict(), REVERIFY.name])  # each asked exactly once
    served = {rule for f in SITE_FIELDS for rule in f.guide_rules}
    assert served == set(GuideRule)


def test_the_site_file_doc_lists_every_field():
    """docs/site-file.md's two field tables name the fields of the site and of an interface."""
    import re

    from sites.site_fields import INTERFACE_FIELDS, SITE_FIELDS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "site-file.md").read_text()
    fields_section = doc.split("## Fields", 1)[1].split("\n## ", 1)[0]
    site_table, interface_table = fields_section.split("An interface object", 1)

    def names(table: str) -> list[str]:
        first_cells = re.findall(r"^\| (`[^|]+) \|", table, flags=re.MULTILINE)
        return [name for cell in first_cells for name in re.findall(r"`(\w+)`", cell)]

    assert names(site_table) == [f.name for f in SITE_FIELDS]
    assert names(interface_table) == [f.name for f in INTERFACE_FIELDS]
