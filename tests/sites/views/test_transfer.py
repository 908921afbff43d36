"""The import and export pages: a dry run that names every bad row by line and field, then all or
nothing; exports in the same formats import again unchanged; the import form and its help."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.audit.models import AuditEvent
from sites.description import SiteDescription
from sites.models import Site
from sites.services.sites import create_site
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


def test_the_import_help_names_the_columns_the_reader_takes(world):
    page = client_for(world, "customer_admin").get(f"/o/{world.customer.slug}/sites/import/")
    help_text = page.content.decode()
    assert (
        "Required: <code>name</code>, <code>vendor</code>, <code>lan_network</code>, "
        "<code>lan_gateway</code>, <code>host_addressing</code> (<code>static</code>, "
        "<code>range</code>, <code>dhcp</code>)."
    ) in help_text
    assert (
        "<code>name|index|address|network|gateway</code>, separated by <code>;</code>." in help_text
    )
    assert (
        "Optional <code>reverify</code> (<code>off</code>, <code>daily</code>, <code>weekly</code>)"
    ) in help_text


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
