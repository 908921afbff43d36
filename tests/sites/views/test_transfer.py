"""The import and export pages: a dry run that names every bad row by line and field, then all or
nothing; exports in the same formats import again unchanged; the import form and its help."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.html import escape

from portal.audit.models import AuditEvent
from sites.description import SiteDescription
from sites.models import Site
from sites.services.sites import create_site
from sites.services.transfer import CSV_COLUMNS
from sites.site_fields import site_field
from sites.vendors import vendor_choices
from tests.factories import CustomerFactory, site_description
from tests.sites.services.test_transfer import GOOD_ROWS, HEADER

pytestmark = pytest.mark.django_db


def client_for(world, role) -> Client:
    client = Client()
    client.force_login(world.people[role])
    return client


def upload(client, organisation_page, target, content: str, name="sites.csv", action="check"):
    return client.post(
        f"/o/{organisation_page.slug}/sites/import/",
        {
            "organisation": target.slug,
            "file": SimpleUploadedFile(name, content.encode()),
            "action": action,
        },
    )


def snapshot():
    return Site.objects.count(), AuditEvent.objects.filter(action__startswith="site").count()


def problems(response):
    return [(p.line, p.field) for p in response.context["problems"]]


def test_a_dry_run_names_every_bad_row_by_line_and_field_and_saves_nothing(
    world, django_capture_on_commit_callbacks
):
    content = "\n".join(
        [
            HEADER,
            GOOD_ROWS[0],
            "Branch two,fortigate,192.168.5.0/33,192.168.5.1,static,192.168.5.10,192.0.2.5,false,",  # line 3
            "Harbour street,acme,192.168.6.0/24,192.168.6.1,static,10.0.0.9,,maybe,",  # line 4: four problems
            "Customer One HQ,fortigate,192.168.7.0/24,192.168.7.1,static,192.168.7.10,,false,",  # line 5
            "",
            '"Quoted,\nname",fortigate,192.168.8.0/24,192.168.8.1,range,,,false,',  # lines 7-8
            GOOD_ROWS[1],  # line 9
        ]
    )
    client = client_for(world, "reseller_admin")
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for action in ("check", "import"):
            response = upload(client, world.reseller, world.customer, content, action=action)
            assert response.status_code == 422, action
            assert sorted(problems(response)) == [
                (3, "lan_network"),
                (4, "host_address"),
                (4, "monitoring_enabled"),
                (4, "name"),
                (4, "vendor"),
                (5, "name"),
                (7, "host_range_end"),
                (7, "host_range_start"),
            ]
            assert [line for line, _ in problems(response)] == [
                3,
                4,
                4,
                4,
                4,
                5,
                7,
                7,
            ]  # in file order
    assert snapshot() == before and not callbacks
    messages = {(p.line, p.field): p.message for p in response.context["problems"]}
    assert "host bits" in messages[(3, "lan_network")] or "CIDR" in messages[(3, "lan_network")]
    assert "is also the name on line 2" in messages[(4, "name")]
    assert "already has a site named" in messages[(5, "name")]
    assert "Must be true or false" in messages[(4, "monitoring_enabled")]
    body = response.content.decode()
    assert "8 problems in the file — nothing was imported" in body
    assert 'data-line="3" data-field="lan_network"' in body


def test_a_clean_file_is_checked_then_imported_in_one_go(world, django_capture_on_commit_callbacks):
    content = "\n".join([HEADER, *GOOD_ROWS]) + "\n"
    client = client_for(world, "reseller_admin")
    checked = upload(client, world.reseller, world.sibling_customer, content)
    assert checked.status_code == 200 and checked.context["check"].ok
    assert not Site.objects.filter(name="Depot").exists()  # a dry run saves nothing
    body = checked.content.decode()
    assert (
        "3 sites ready for Customer Sibling" in body
        and "Import 3 sites into Customer Sibling" in body
    )
    # The confirmation carries the file: no second upload.
    confirm = checked.context["confirm_form"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            f"/o/{world.reseller.slug}/sites/import/",
            {
                "organisation": world.sibling_customer.slug,
                "content": confirm.initial["content"],
                "format": "csv",
                "action": "import",
            },
        )
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/o/{world.reseller.slug}/sites/?organisation=customer-sibling&sort=-updated"
    )
    created = Site.objects.filter(organisation=world.sibling_customer).exclude(
        name="Customer Sibling HQ"
    )
    assert sorted(created.values_list("name", flat=True)) == [
        "Depot",
        "Harbour Street",
        "Warehouse",
    ]
    depot = created.get(name="Depot")
    assert depot.description["monitoring_sources"] == ["198.51.100.7/32", "203.0.113.0/28"]
    assert depot.description["monitoring_enabled"] is True and depot.reverify == "weekly"
    assert len(callbacks) == 3  # each site's instructions, queued after the commit
    assert (
        AuditEvent.objects.filter(
            action="site.created", organisation=world.sibling_customer
        ).count()
        == 3
    )
    imported = AuditEvent.objects.get(action="sites.imported")
    assert imported.after["count"] == 3 and imported.actor_user == world.people["reseller_admin"]


def test_a_json_list_of_site_files_reports_lines_too(world):
    content = json.dumps(
        [
            site_description(name="North"),
            site_description(name="South", lan_gateway="10.0.0.1", reverify="hourly"),
            "not a site",
        ],
        indent=2,
    )
    client = client_for(world, "customer_admin")
    response = upload(client, world.customer, world.customer, content, name="sites.json")
    assert response.status_code == 422
    lines = content.splitlines()
    south = [n for n, line in enumerate(lines, start=1) if line == "  {"][
        1
    ]  # where the 2nd object starts
    string = lines.index('  "not a site"') + 1
    assert sorted(problems(response)) == [(south, "lan_gateway"), (south, "reverify"), (string, "")]
    broken = upload(
        client,
        world.customer,
        world.customer,
        '[\n  {"name": "x",\n  "vendor" "fortigate"}\n]',
        name="x.json",
    )
    assert (
        problems(broken) == [(3, "")] and "Not valid JSON" in broken.context["problems"][0].message
    )


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_imports_again_unchanged(world, fmt):
    source = world.customer
    variants = [
        site_description(name="Static"),
        site_description(
            name="Range",
            host_addressing="range",
            host_range_start="192.168.1.20",
            host_range_end="192.168.1.29",
            host_address="192.168.1.20",
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.0/24", "203.0.113.9"],
            firmware="7.2.8, build 1640",
            inside_interface="port2",
            outside_interface="wan1",
        ),
        site_description(
            name="DHCP, reserved",
            host_addressing="dhcp",
            dhcp_reservation_planned=True,
            public_address=None,
            host_os="linux",
        ),
        site_description(
            name="Two NICs",
            multi_homed=True,
            firewall_interface="LAN",
            host_interfaces=[
                {
                    "name": "LAN",
                    "index": 3,
                    "address": "192.168.1.10",
                    "network": "192.168.1.0/24",
                    "gateway": "192.168.1.1",
                },
                {
                    "name": "Other",
                    "index": 4,
                    "address": "10.1.0.10",
                    "network": "10.1.0.0/24",
                    "gateway": "10.1.0.1",
                },
            ],
        ),
    ]
    for n, data in enumerate(variants):
        create_site(
            organisation=source, data=data, reverify=["off", "daily", "weekly", "weekly"][n]
        )
    client = client_for(world, "reseller_admin")
    export = client.get(
        f"/o/{world.reseller.slug}/sites/export/", {"format": fmt, "organisation": source.slug}
    )
    assert export.status_code == 200
    assert export["Content-Disposition"].startswith(
        f'attachment; filename="{world.reseller.slug}-sites-'
    )
    content = b"".join(export.streaming_content).decode()

    # Importing into the same organisation: every name is taken, and nothing else is wrong.
    again = upload(client, world.reseller, source, content, name=f"export.{fmt}")
    assert {p.field for p in again.context["problems"]} == {"name"}
    # Into a new client of the same reseller (the file's organisation column renamed): identical sites.
    target = CustomerFactory(parent=world.reseller, name="Acme Two", slug="acme-two")
    moved = content.replace(source.slug, target.slug)
    response = upload(client, world.reseller, target, moved, name=f"export.{fmt}", action="import")
    assert response.status_code == 302, getattr(response, "context", {}) and response.context.get(
        "problems"
    )

    def sites_of(organisation):
        return {
            s.name: (SiteDescription.from_dict(s.description).to_dict(), s.reverify)
            for s in Site.objects.filter(organisation=organisation)
        }

    original, copied = sites_of(source), sites_of(target)
    assert copied == original and len(copied) == 5
    # Left unchanged, the organisation column refuses to land in the wrong client.
    stray = upload(
        client,
        world.reseller,
        CustomerFactory(parent=world.reseller, slug="acme-three"),
        content,
        name=f"export.{fmt}",
    )
    assert {p.field for p in stray.context["problems"]} == {"organisation"}


def test_the_import_page_offers_only_the_actors_clients(world):
    client = client_for(world, "reseller_admin")
    page = client.get(f"/o/{world.reseller.slug}/sites/import/")
    choices = [slug for slug, _ in page.context["form"].fields["organisation"].choices if slug]
    assert [str(c) for c in choices] == [world.customer.slug, world.sibling_customer.slug]
    refused = upload(
        client, world.reseller, world.other_customer, "\n".join([HEADER, GOOD_ROWS[0]])
    )
    assert refused.status_code == 422 and "organisation" in refused.context["form"].errors
    assert not Site.objects.filter(name="Harbour Street").exists()
    assert (
        client_for(world, "customer_viewer")
        .get(f"/o/{world.customer.slug}/sites/import/")
        .status_code
        == 403
    )
    assert (
        client_for(world, "support").get(f"/o/{world.provider.slug}/sites/import/").status_code
        == 403
    )
    own = client_for(world, "customer_admin").get(f"/o/{world.customer.slug}/sites/import/")
    assert own.context["form"]["organisation"].value() == world.customer.slug


def test_the_import_help_names_every_column_the_reader_takes_and_every_vendor_slug(world):
    page = client_for(world, "customer_admin").get(f"/o/{world.customer.slug}/sites/import/")
    html = page.content.decode()
    assert (
        "only the required ones must be there: <code>name</code>, <code>vendor</code>, "
        "<code>lan_network</code>, <code>lan_gateway</code>, <code>host_addressing</code>."
    ) in html
    help_table = html[html.index('class="import-columns"') :]
    rows = re.findall(r'<tr id="column-([a-z_]+)">', help_table)
    assert rows == list(CSV_COLUMNS)  # every column the reader takes, in the export's order
    for slug, name in vendor_choices():
        assert f"<li><code>{slug}</code> {escape(name)}</li>" in help_table
    for value in ("static", "range", "dhcp", "off", "daily", "weekly", "windows", "true"):
        assert f"<li><code>{value}</code>" in help_table
    assert "<code>name|index|address|network|gateway</code>" in help_table
    required = re.findall(
        r'<tr id="column-([a-z_]+)">\s*<td><code>[a-z_]+</code> <span class="required">', help_table
    )
    assert required == ["name", "vendor", "lan_network", "lan_gateway", "host_addressing"]
    # The words come from the one field table.
    assert escape(site_field("lan_network").schema_help.replace("`", "")) in re.sub(
        r"</?code>", "", help_table
    )


def test_a_file_that_is_not_utf8_is_refused_on_the_form(world):
    response = client_for(world, "customer_admin").post(
        f"/o/{world.customer.slug}/sites/import/",
        {
            "organisation": world.customer.slug,
            "file": SimpleUploadedFile("x.csv", b"name\n\xff\xfe\n"),
        },
    )
    assert response.status_code == 422 and "not UTF-8" in str(
        response.context["form"].errors["file"]
    )


def post_import(client, organisation_page, data):
    return client.post(f"/o/{organisation_page.slug}/sites/import/", data)


def test_pasted_rows_are_checked_and_imported_like_a_file(world):
    client = client_for(world, "customer_admin")
    pasted = "\n".join([HEADER, *GOOD_ROWS])
    checked = post_import(
        client,
        world.customer,
        {"organisation": world.customer.slug, "paste": pasted, "action": "check"},
    )
    assert checked.status_code == 200 and checked.context["check"].ok
    assert len(checked.context["check"].rows) == 3
    as_json = json.dumps([site_description(name="Pasted JSON")])
    imported = post_import(
        client,
        world.customer,
        {"organisation": world.customer.slug, "paste": as_json, "action": "import"},
    )
    assert imported.status_code == 302
    assert Site.objects.filter(organisation=world.customer, name="Pasted JSON").exists()


def test_a_file_and_pasted_rows_at_once_or_neither_are_refused_naming_the_field(world):
    client = client_for(world, "customer_admin")
    before = snapshot()
    both = client.post(
        f"/o/{world.customer.slug}/sites/import/",
        {
            "organisation": world.customer.slug,
            "file": SimpleUploadedFile("s.csv", "\n".join([HEADER, GOOD_ROWS[0]]).encode()),
            "paste": "\n".join([HEADER, GOOD_ROWS[1]]),
            "action": "import",
        },
    )
    assert both.status_code == 422 and "not both" in str(both.context["form"].errors["paste"])
    blank = post_import(
        client, world.customer, {"organisation": world.customer.slug, "paste": "  \n "}
    )
    assert blank.status_code == 422 and "paste the rows" in str(
        blank.context["form"].errors["file"]
    )
    assert snapshot() == before


MIXED_ROWS = [
    HEADER,
    GOOD_ROWS[0],  # line 2
    "Bad gateway,fortigate,192.168.30.0/24,10.9.9.9,static,192.168.30.10,,false,",  # line 3
    GOOD_ROWS[1],  # line 4
    "Bad vendor,acme,192.168.31.0/24,192.168.31.1,static,192.168.31.10,,maybe,",  # line 5
]


def test_importing_only_the_clean_rows_is_an_explicit_choice_with_an_exact_result(
    world, django_capture_on_commit_callbacks
):
    client = client_for(world, "reseller_admin")
    content = "\n".join(MIXED_ROWS)
    before = snapshot()
    # "Check and import" stays all or nothing: the problems, nothing imported, and the offer.
    refused = upload(client, world.reseller, world.customer, content, action="import")
    assert refused.status_code == 422 and snapshot() == before
    offer = refused.context["clean_rows_form"]
    assert offer.initial["expected_rows"] == 2 and offer.initial["action"] == "import_clean"
    body = refused.content.decode()
    assert "Import 2 clean rows, leave out 2" in body and "(lines 3, 5)" in body
    checked = upload(client, world.reseller, world.customer, content)
    assert checked.context["clean_rows_form"].initial["expected_rows"] == 2
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = post_import(
            client,
            world.reseller,
            {
                "organisation": world.customer.slug,
                "content": offer.initial["content"],
                "format": "csv",
                "action": "import_clean",
                "expected_rows": "2",
            },
        )
    assert result.status_code == 200 and len(callbacks) == 2
    outcome = result.context["outcome"]
    assert sorted(s.name for s in outcome.created) == ["Depot", "Harbour Street"]
    html = result.content.decode()
    assert "2 sites imported into Customer One; 2 rows not imported" in html
    assert 'data-line="3"' in html and 'data-line="5"' in html and "Bad vendor" in html
    assert not Site.objects.filter(name__startswith="Bad ").exists()


def test_the_clean_rows_need_the_count_from_a_dry_run(world):
    client = client_for(world, "customer_admin")
    content = "\n".join(MIXED_ROWS)
    before = snapshot()
    data = {"organisation": world.customer.slug, "content": content, "action": "import_clean"}
    missing = post_import(client, world.customer, data)
    assert missing.status_code == 422 and "Check the file first" in str(
        missing.context["form"].non_field_errors()
    )
    other_count = post_import(client, world.customer, {**data, "expected_rows": "3"})
    assert other_count.status_code == 422
    assert "not the 3 you chose" in str(other_count.context["form"].non_field_errors())
    assert snapshot() == before


def test_no_offer_of_clean_rows_when_the_file_itself_is_wrong(world):
    client = client_for(world, "customer_admin")
    unknown_column = "\n".join(MIXED_ROWS).replace("monitoring_sources", "monitoring_source")
    response = upload(client, world.customer, world.customer, unknown_column)
    assert response.status_code == 422 and "clean_rows_form" not in response.context
    assert b"clean-rows-choice" not in response.content
