"""Every cell of every CSV export (sites, the dashboard's bulk export, audit) is formula-safe, and
the sites export still imports again unchanged (#14, point 3)."""

import csv
import io

import pytest
from django.test import Client

from portal.accounts.models import Role
from portal.audit.export import COLUMNS as AUDIT_COLUMNS
from portal.core.spreadsheet import FORMULA_START, read_cell, safe_cell
from sites.description import SiteDescription
from sites.models import Site
from sites.services import transfer
from sites.services.sites import create_site
from tests.factories import CustomerFactory, SiteFactory, site_description
from tests.portal.audit.helpers import make_event

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x")'


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def neutralised(cell: str) -> bool:
    """A spreadsheet reads the cell as text: it does not start with a formula character."""
    return not cell.startswith(FORMULA_START)


@pytest.mark.parametrize("start", [*FORMULA_START, "'"])
def test_a_cell_starting_like_a_formula_gets_a_quote_that_the_import_removes(start):
    text = f"{start}1+2"
    assert safe_cell(text) == f"'{text}"
    assert read_cell(safe_cell(text)) == text


def test_ordinary_cells_and_hand_written_quotes_are_left_alone():
    assert [safe_cell(v) for v in ("Main office", "", None, 7, "a=b")] == [
        "Main office",
        "",
        "",
        "7",
        "a=b",
    ]
    assert read_cell("'Main office") == "'Main office"  # no quote of ours to remove


def formula_site(organisation) -> Site:
    """A site whose name and every description field start with a formula: the database holds
    what an older version or a direct write could have stored, and the export must still be safe."""
    site = SiteFactory(organisation=organisation)
    description = {name: FORMULA for name in transfer.SITE_FILE_FIELDS}
    description["monitoring_sources"] = [FORMULA, "-x"]
    description["host_interfaces"] = [
        {"name": FORMULA, "index": 3, "address": "-a", "network": "@n", "gateway": None}
    ]
    description["multi_homed"] = description["monitoring_enabled"] = None
    description["dhcp_reservation_planned"] = None
    Site.objects.filter(pk=site.pk).update(name=FORMULA, description=description)
    return site


def assert_every_cell_is_safe(rows: list[dict], columns) -> None:
    assert rows
    for row in rows:
        for column in columns:
            assert neutralised(row[column]), (column, row[column])


def test_every_column_of_the_sites_export_is_formula_safe(world):
    organisation = CustomerFactory(parent=world.reseller, slug="-formula", name="=Org")
    formula_site(organisation)
    client = client_for(world.people[Role.RESELLER_ADMIN])
    rows = rows_of(
        client.get(
            f"/o/{world.reseller.slug}/sites/export/",
            {"format": "csv", "organisation": organisation.slug},
        )
    )
    assert_every_cell_is_safe(rows, transfer.CSV_COLUMNS)
    filled = [c for c in transfer.CSV_COLUMNS if c not in {*transfer.BOOLEAN_FIELDS, "reverify"}]
    assert all(rows[0][column].startswith("'") for column in filled), rows[0]
    assert rows[0]["host_interfaces"] == "'" + FORMULA + "|3|-a|@n|"


def test_every_column_of_the_dashboards_bulk_export_is_formula_safe(world):
    site = formula_site(world.customer)
    client = client_for(world.people[Role.CUSTOMER_ADMIN])
    response = client.post(
        f"/o/{world.customer.slug}/sites/bulk/",
        {"action": "export_csv", "scope": "selected", "site": [site.pk]},
    )
    rows = rows_of(response)
    assert [row["name"] for row in rows] == ["'" + FORMULA]
    assert_every_cell_is_safe(rows, transfer.CSV_COLUMNS)


def test_every_column_of_the_audit_export_is_formula_safe(world):
    make_event(
        organisation=world.customer,
        organisation_name=FORMULA,
        actor_label="+cmd",
        actor_kind="-kind",
        action="@action",
        object_type="\tsite",
        object_id="\r7",
        object_repr=FORMULA,
        source="=web",
        request_id="-req",
        ip_address="198.51.100.20",  # an address cannot start like a formula
        before=-1,  # JSON text starting with "-"
        after=-2,
    )
    client = client_for(world.people[Role.SUPPORT])
    rows = rows_of(client.get(f"/o/{world.provider.slug}/audit/export.csv", {"action": "@action"}))
    assert len(rows) == 1
    assert_every_cell_is_safe(rows, AUDIT_COLUMNS)
    quoted = set(AUDIT_COLUMNS) - {"occurred_at", "ip_address"}
    assert all(rows[0][column].startswith("'") for column in quoted), rows[0]


def test_formula_like_names_survive_export_then_import(world):
    source = world.customer
    variants = [
        site_description(name="=1+2"),
        site_description(name="-x", firmware="+7.2"),
        site_description(name="'quoted", inside_interface="@lan"),
        site_description(name="''=twice"),
        site_description(
            name="@home",
            multi_homed=True,
            firewall_interface="-LAN",
            host_interfaces=[
                {
                    "name": "-LAN",
                    "index": 3,
                    "address": "192.168.1.10",
                    "network": "192.168.1.0/24",
                    "gateway": "192.168.1.1",
                },
                {
                    "name": "=Backup",
                    "index": 4,
                    "address": "10.1.0.10",
                    "network": "10.1.0.0/24",
                    "gateway": None,
                },
            ],
        ),
    ]
    for data in variants:
        create_site(organisation=source, data=data, reverify="weekly")
    text = "".join(transfer.export_csv(Site.objects.filter(organisation=source)))
    assert all(neutralised(cell) for row in csv.reader(io.StringIO(text)) for cell in row)
    target = CustomerFactory(parent=world.reseller, slug="copy")
    check = transfer.check_import(
        organisation=target, text=text.replace(f",{source.slug}\r\n", ",copy\r\n"), fmt="csv"
    )
    assert check.ok, check.problems
    imported = {
        row.data["name"]: SiteDescription.from_dict(row.data).to_dict() for row in check.rows
    }
    original = {
        site.name: SiteDescription.from_dict(site.description).to_dict()
        for site in Site.objects.filter(organisation=source)
    }
    assert imported == original
    assert {"=1+2", "-x", "'quoted", "''=twice", "@home"} <= set(imported)
