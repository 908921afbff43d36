"""Reading and writing site files as CSV and JSON (sites.services.transfer): the columns are the site
file's fields, quoted cells and host interfaces survive a round trip, a broken file is explained."""

import csv
import io

import pytest

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.description import SiteDescription
from sites.models import Site
from sites.services import transfer
from sites.vendors import vendor_choices
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


# --- Importing only the clean rows ------------------------------------------------------------

MIXED = "\n".join(
    [
        HEADER,
        GOOD_ROWS[0],  # line 2
        "Bad gateway,fortigate,192.168.30.0/24,10.9.9.9,static,192.168.30.10,,false,",  # line 3
        GOOD_ROWS[1],  # line 4
        "Bad vendor,acme,192.168.31.0/24,192.168.31.1,static,192.168.31.10,,maybe,",  # line 5
        GOOD_ROWS[2],  # line 6
    ]
)


def test_a_dry_run_offers_the_clean_rows_only_when_every_problem_is_a_rows_own(world):
    check = transfer.check_import(organisation=world.customer, text=MIXED, fmt="csv")
    assert not check.ok and check.can_skip_bad_rows
    assert [row.line for row in check.rows] == [2, 4, 6] and check.bad_lines == [3, 5]
    # A problem with the file itself (an unknown column, unreadable CSV): no such offer.
    unknown = MIXED.replace("monitoring_sources", "monitoring_source")
    assert not transfer.check_import(
        organisation=world.customer, text=unknown, fmt="csv"
    ).can_skip_bad_rows
    broken = transfer.check_import(
        organisation=world.customer, text='[{"name": "A"}, {"name": ', fmt="json"
    )
    assert not broken.can_skip_bad_rows
    only_bad = "\n".join([HEADER, MIXED.splitlines()[2]])
    assert not transfer.check_import(
        organisation=world.customer, text=only_bad, fmt="csv"
    ).can_skip_bad_rows


def test_the_default_import_stays_all_or_nothing(world):
    before = Site.objects.count()
    with pytest.raises(transfer.ImportRefused):
        transfer.import_sites(organisation=world.customer, text=MIXED, fmt="csv")
    assert Site.objects.count() == before


def test_importing_the_clean_rows_creates_them_and_lists_the_rows_left_out(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outcome = transfer.import_clean_rows(
            organisation=world.customer, text=MIXED, fmt="csv", expected_rows=3
        )
    assert sorted(s.name for s in outcome.created) == ["Depot", "Harbour Street", "Warehouse"]
    assert [(row.line, row.site) for row in outcome.skipped] == [
        (3, "Bad gateway"),
        (5, "Bad vendor"),
    ]
    assert {p.field for p in outcome.skipped[1].problems} >= {"vendor", "monitoring_enabled"}
    assert not Site.objects.filter(name__startswith="Bad ").exists()
    assert len(callbacks) == 3
    event = AuditEvent.objects.get(action="sites.imported")
    assert event.after["count"] == 3
    assert event.after["skipped"] == 2 and event.after["skipped_lines"] == [3, 5]


def test_the_clean_rows_are_imported_only_as_many_as_were_chosen(world):
    """Between the dry run and the import a site took one of the names: the file now has two
    clean rows, not the three the person chose, so nothing is imported."""
    before = Site.objects.count()
    transfer.import_sites(
        organisation=world.customer, text="\n".join([HEADER, GOOD_ROWS[2]]), fmt="csv"
    )
    with pytest.raises(ServiceError, match="now has 2 clean rows, not the 3"):
        transfer.import_clean_rows(
            organisation=world.customer, text=MIXED, fmt="csv", expected_rows=3
        )
    assert Site.objects.count() == before + 1
    unknown = MIXED.replace("monitoring_sources", "monitoring_source")
    with pytest.raises(transfer.ImportRefused):
        transfer.import_clean_rows(
            organisation=world.customer, text=unknown, fmt="csv", expected_rows=3
        )
    assert Site.objects.count() == before + 1


def test_the_help_describes_every_column_from_the_field_table():
    columns = transfer.column_help()
    assert tuple(c.name for c in columns) == transfer.CSV_COLUMNS
    by_name = {c.name: c for c in columns}
    assert {slug for slug, _ in by_name["vendor"].values} == {slug for slug, _ in vendor_choices()}
    assert [v for v, _ in by_name["host_addressing"].values] == ["static", "range", "dhcp"]
    assert [v for v, _ in by_name["monitoring_enabled"].values] == ["true", "false"]
    assert all(c.text_parts and "".join(c.text_parts).strip() for c in columns)
