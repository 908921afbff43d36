"""Reading and writing site files as CSV and JSON (sites.services.transfer): the columns are the site
file's fields, quoted cells and host interfaces survive a round trip, a broken file is explained."""

import csv
import io

import pytest

from sites.description import SiteDescription
from sites.models import Site
from sites.services import transfer
from tests.factories import CustomerFactory, site_description

pytestmark = pytest.mark.django_db

HEADER = "name,vendor,lan_network,lan_gateway,host_addressing,host_address,public_address,monitoring_enabled,monitoring_sources"
GOOD_ROWS = [
    "Harbour Street,fortigate,192.168.20.0/24,192.168.20.1,static,192.168.20.10,192.0.2.20,false,",
    "Depot,pfsense,192.168.21.0/24,192.168.21.1,static,192.168.21.10,192.0.2.21,true,198.51.100.7/32;203.0.113.0/28",
    "Warehouse,iptables,192.168.22.0/24,192.168.22.1,dhcp,,,no,",
]


def test_the_csv_columns_are_the_site_file_fields_in_its_order():
    site = SiteDescription.from_dict(
        {
            "name": "A",
            "vendor": "generic",
            "lan_network": "10.0.0.0/24",
            "lan_gateway": "10.0.0.1",
            "host_addressing": "dhcp",
        }
    )
    assert tuple(site.to_dict()) == transfer.SITE_FILE_FIELDS
    assert {
        "dhcp_reservation_planned",
        "monitoring_enabled",
        "multi_homed",
    } == transfer.BOOLEAN_FIELDS


def test_host_interfaces_and_quoted_cells_survive_csv():
    data = site_description(
        name="=Multi-homed",
        host_os="windows",
        multi_homed=True,
        firewall_interface="LAN 1",
        lan_network="192.168.1.0/24",
        monitoring_enabled=True,
        monitoring_sources=["198.51.100.7/32"],
        host_interfaces=[
            {
                "name": "LAN 1",
                "index": 12,
                "address": "192.168.1.10",
                "network": "192.168.1.0/24",
                "gateway": "192.168.1.1",
            },
            {
                "name": "Backup net",
                "index": 7,
                "address": "10.9.0.5",
                "network": "10.9.0.0/24",
                "gateway": None,
            },
        ],
    )
    description = SiteDescription.from_dict(data).to_dict()
    site = Site(name=description["name"], description=description, reverify="daily")
    site.organisation = CustomerFactory.build(slug="acme")
    text = "".join(transfer.export_csv([site]))
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["name"] == "'=Multi-homed"  # a spreadsheet must not run it as a formula
    assert (
        row["host_interfaces"]
        == "LAN 1|12|192.168.1.10|192.168.1.0/24|192.168.1.1;Backup net|7|10.9.0.5|10.9.0.0/24|"
    )
    records, read_problems = transfer.read_sites_file(text, "csv")
    assert not read_problems
    ((line, raw),) = records
    assert line == 2 and raw.pop("reverify") == "daily" and raw.pop("organisation") == "acme"
    assert SiteDescription.from_dict(raw).to_dict() == description


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        ("", "", "empty"),
        ("name,colour\nx,blue\n", "colour", "Unknown column"),
        ("name;vendor;lan_network\nx;y;z\n", "name;vendor;lan_network", "commas"),
        ("vendor\nfortigate\n", "name", "no 'name' column"),
        (HEADER + "\n", "", "no sites"),
        (HEADER + "\n" + GOOD_ROWS[0] + ",extra\n", "", "cells"),
    ],
)
def test_a_broken_csv_is_explained(world, content, field, message):
    check = transfer.check_import(organisation=world.customer, text=content, fmt="csv")
    assert not check.ok
    assert any(p.field == field and message in p.message for p in check.problems), check.problems
