"""Support finds a customer's change in the audit trail, reads its diff, and exports the search,
in real Chromium."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from portal.audit import context
from portal.audit.models import AuditEvent
from sites.models import Site
from sites.services.sites import update_site
from tests.fixtures.browser import screenshot, sign_in


def acme_admin_renames_the_main_office() -> Site:
    """What the customer admin's edit through the web does, with its request context."""
    admin = get_user_model().objects.get(username="acme-admin")
    site = Site.objects.get(organisation__slug="acme-dental", name="Main office")
    context.begin(
        source="web",
        request_id="3f9c2a7d41e84b0c9d2e5a6b7c8d9e0f",
        ip_address="203.0.113.24",
        user_id=admin.pk,
        actor_label=admin.username,
    )
    try:
        return update_site(
            site=site,
            data={
                **site.description,
                "name": "Main office (Harbour St)",
                "public_address": "192.0.2.99",
            },
        )
    finally:
        context.clear_context()


@pytest.mark.browser
def test_support_finds_a_customers_change_reads_the_diff_and_exports(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    site = acme_admin_renames_the_main_office()

    sign_in(page, live_server.url, "support")
    page.wait_for_url(f"{live_server.url}/o/**")

    page.goto(f"{live_server.url}/o/securidata/audit/")
    expect(page.get_by_text("Read-only view")).to_be_visible()
    search = page.get_by_role("search", name="Search the audit trail")
    results = page.locator("#audit-results")
    # Each change of a filter updates the results in place (htmx) and the address bar.
    search.get_by_label("Organisation").select_option(label="Acme Dental")
    expect(page).to_have_url(re.compile(r"organisation=acme-dental"))
    search.get_by_label("Action").select_option("site.updated")
    expect(page).to_have_url(re.compile(r"action=site.updated"))
    search.get_by_label("Person").press_sequentially("acme")  # keyup, as a person types
    expect(page).to_have_url(re.compile(r"person=acme"))
    rows = results.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("acme-admin")
    expect(rows.first).to_contain_text("Main office (Harbour St)")
    expect(results).to_contain_text("1 event matches these filters")
    screenshot(page, "audit-search")

    # An end before the start: the field says so (422), the results and the address stay.
    tomorrow = timezone.localdate() + timedelta(days=1)
    search.get_by_label("From").fill(tomorrow.isoformat())
    expect(page).to_have_url(re.compile(rf"date_from={tomorrow}"))
    expect(results.locator("tbody tr")).to_have_count(0)
    search.get_by_label("To").fill((tomorrow - timedelta(days=7)).isoformat())
    expect(page.locator("#id_date_to_errors")).to_contain_text(
        "To: The end date is before the start date."
    )
    expect(page).not_to_have_url(re.compile(r"date_to=\d"))
    search.get_by_label("From").fill("")
    expect(page.locator("#id_date_to_errors")).to_be_empty()
    expect(page).to_have_url(re.compile(r"date_to=\d{4}-"))
    search.get_by_label("To").fill("")
    expect(results.locator("tbody tr")).to_have_count(1)

    # A reload of the pushed address shows the same search, filled in (plain GET form).
    page.reload()
    expect(search.get_by_label("Person")).to_have_value("acme")
    expect(results.locator("tbody tr")).to_have_count(1)

    rows.first.get_by_role("link", name="Main office (Harbour St)").click()
    page.wait_for_url(f"{live_server.url}/o/securidata/audit/object/sites.site/{site.pk}/")
    expect(page.get_by_role("heading", name="Main office (Harbour St)")).to_be_visible()
    newest = page.locator(".audit-entry").first
    expect(newest).to_contain_text("site.updated")
    expect(newest).to_contain_text("acme-admin")
    expect(newest).to_contain_text("203.0.113.24")
    expect(newest).to_contain_text("3f9c2a7d41e84b0c9d2e5a6b7c8d9e0f")
    name_row = newest.locator(
        "tr.changed", has=page.locator("code", has_text=re.compile(r"^name$"))
    )
    expect(name_row.locator("td.before")).to_have_text("Main office")
    expect(name_row.locator("td.after")).to_have_text("Main office (Harbour St)")
    expect(newest.locator("tr.changed", has_text="public_address")).to_contain_text("192.0.2.99")
    # The creation, further down: the values it recorded, folded away until asked for.
    created = page.locator(".audit-entry", has_text="site.created")
    created.get_by_text("Recorded values").click()
    expect(created.locator("tr.added", has_text="lan_network")).to_contain_text("192.168.10.0/24")
    created.get_by_text("Recorded values").click()
    screenshot(page, "audit-history")

    page.go_back()
    with page.expect_download() as download_info:
        page.locator("#audit-results").get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"audit-securidata-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert [(r["action"], r["actor"], r["object"]) for r in rows] == [
        ("site.updated", "acme-admin", "Main office (Harbour St)")
    ]
    exported_event = AuditEvent.objects.get(action="audit.exported")
    assert exported_event.actor_label == "support"
    assert exported_event.after["rows"] == 1
    assert exported_event.after["filters"]["action"] == "site.updated"
    assert exported_event.after["filters"]["organisation"] == "acme-dental"
