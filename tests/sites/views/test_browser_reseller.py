"""A reseller, in real Chromium with a real worker: imports a CSV with a bad row, reads the error by
line and field, fixes the file, imports it, re-verifies and regenerates in bulk while the progress
bar fills, and looks at the dashboard."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from portal.jobs.models import Job, JobKind, JobState
from sites.models import ProbeRun, ProbeRunState, Site
from tests.factories import ProbeRunFactory
from tests.fixtures.browser import screenshot, sign_in
from tests.fixtures.worker import wait_for

HEADER = "name,vendor,lan_network,lan_gateway,host_addressing,host_address,public_address,host_os,monitoring_sources"
ROWS = [
    "Branch Mill Lane,fortigate,192.168.60.0/24,192.168.60.1,static,192.168.60.10,192.0.2.60,windows,",
    "Branch Quayside,sonicwall,192.168.61.0/33,192.168.61.1,static,192.168.61.10,192.0.2.61,windows,",
    "Archive room,pfsense,192.168.62.0/24,192.168.62.1,dhcp,,,linux,",
]
FIXED = ROWS[1].replace("192.168.61.0/33", "192.168.61.0/24")


def csv_file(rows) -> dict:
    return {
        "name": "birch-sites.csv",
        "mimeType": "text/csv",
        "buffer": ("\n".join([HEADER, *rows]) + "\n").encode(),
    }


def give_the_demo_a_probe_history():
    """Proofs of various ages on the demo sites, so the dashboard shows every kind of flag."""
    now = timezone.now()
    ages = {
        "Main office": 1,
        "Head office": 2,
        "Warehouse": 12,
        "Depot north": 3,
        "Studio": 1,
        "Campus": 20,
    }
    for site in Site.objects.filter(current_instruction_set__isnull=False):
        days = ages.get(site.name)
        if days is None:
            continue
        at = now - timedelta(days=days)
        ProbeRunFactory(site=site, state=ProbeRunState.PROVEN, created_at=at, finished_at=at)
    at = now - timedelta(hours=5)
    ProbeRunFactory(
        site=Site.objects.get(name="Depot north"),
        state=ProbeRunState.FAILED,
        created_at=at,
        finished_at=at,
    )


@pytest.mark.browser
@pytest.mark.worker
def test_reseller_imports_sites_then_acts_on_them_in_bulk(live_server, celery_worker_process, page):
    call_command("seed_demo", stdout=io.StringIO())
    give_the_demo_a_probe_history()
    sign_in(page, live_server.url, "northwind")

    page.goto(f"{live_server.url}/o/northwind/sites/")
    page.get_by_role("link", name="Import sites").click()
    page.get_by_label("Client organisation").select_option(label="Birch & Co Accountants")
    page.get_by_label("Site file").set_input_files(csv_file(ROWS))
    page.get_by_role("button", name="Check the file").click()
    problems = page.locator("table.problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("Line 3")
    expect(problems.first).to_contain_text("lan_network")
    expect(problems.first).to_contain_text("Branch Quayside")
    expect(
        page.get_by_role("heading", name="1 problem in the file — nothing was imported")
    ).to_be_visible()
    assert not Site.objects.filter(name__in=["Branch Mill Lane", "Archive room"]).exists()
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "reseller-import", full_page=False)

    # The same file, corrected.
    page.get_by_label("Client organisation").select_option(label="Birch & Co Accountants")
    page.get_by_label("Site file").set_input_files(csv_file([ROWS[0], FIXED, ROWS[2]]))
    page.get_by_role("button", name="Check the file").click()
    expect(
        page.get_by_role(
            "heading", name="The file is clean: 3 sites ready for Birch & Co Accountants"
        )
    ).to_be_visible()
    assert not Site.objects.filter(name="Branch Mill Lane").exists()
    page.get_by_role("button", name="Import 3 sites into Birch & Co Accountants").click()
    expect(page.locator(".message.success")).to_contain_text(
        "3 sites imported into Birch & Co Accountants"
    )
    expect(page.locator("#site-table")).to_contain_text("Branch Quayside")
    imported = Site.objects.filter(name__in=["Branch Mill Lane", "Branch Quayside", "Archive room"])
    assert imported.count() == 3
    # The worker prepares their instructions.
    wait_for(
        lambda: not imported.filter(current_instruction_set__isnull=True).exists(),
        timeout=120,
        process=celery_worker_process,
    )

    # Ask the customer to prove the imported sites (ticked): a mailed request each, then
    # "waiting on customer"; the job says what it did, never "Succeeded".
    page.reload()
    for name in ("Branch Mill Lane", "Branch Quayside", "Archive room"):
        page.get_by_label(f"Select {name}").check()
    page.get_by_role("button", name="Ask customers to prove again").click()
    expect(page.get_by_role("heading", name="Ask customers to prove again: 3 sites")).to_be_visible(
        timeout=20_000
    )
    status = page.locator("#job-status [data-state]")
    expect(status).to_have_attribute("data-state", "succeeded", timeout=90_000)  # polled: no reload
    expect(page.locator("#job-status")).to_contain_text("3 of 3 sites done")
    expect(page.locator(".job-summary")).to_contain_text("3 requests sent, 0 proven yet")
    expect(page.locator("#job-status [data-state]")).to_have_text("Requests sent")
    assert ProbeRun.objects.filter(site__in=imported, state=ProbeRunState.WAITING).count() == 3

    # Regenerate every site of the client (all matching the filter), watching the bar fill.
    page.get_by_role("link", name="Back to the sites").first.click()
    page.locator("#id_organisation").select_option(label="Birch & Co Accountants")
    expect(page.locator("#site-table .results-head")).to_contain_text("5 sites match the filter")
    page.get_by_label("all 5 sites matching the filter").check()
    page.get_by_role("button", name="Regenerate instructions").click()
    expect(page.get_by_role("heading", name="Regenerate instructions: 5 sites")).to_be_visible(
        timeout=20_000
    )
    expect(status).to_have_attribute("data-state", "succeeded", timeout=90_000)
    expect(page.locator("#job-status")).to_contain_text("5 of 5 sites done")
    expect(page.locator("#job-status .progress")).to_have_attribute("aria-valuenow", "100")
    job = Job.objects.get(kind=JobKind.BULK_REGENERATE)
    assert job.state == JobState.SUCCEEDED and job.progress_done == 5

    # The whole dashboard: every client, the flags, the sites waiting on the customer.
    page.goto(f"{live_server.url}/o/northwind/sites/")
    expect(page.locator("#site-table")).to_contain_text("Waiting on customer")
    expect(page.locator("#site-table")).to_contain_text("Proof failing")
    page.get_by_label("Flag").select_option(label="Waiting on customer")  # htmx swaps the table
    expect(page.locator("#site-table tbody tr")).to_have_count(3)
    assert page.url.endswith("/o/northwind/sites/?flag=waiting")  # pushed, without the empty fields
    page.get_by_role("link", name="Clear").click()
    expect(page.locator("#site-table tbody tr")).to_have_count(
        12
    )  # 9 demo sites of 3 clients, 3 imported
    page.get_by_role("columnheader", name="Last probe").get_by_role(
        "link"
    ).click()  # sort, in place
    expect(page.locator("#site-table tbody tr").first).to_contain_text(
        "Warehouse"
    )  # the oldest proof
    assert page.url.endswith("/o/northwind/sites/?sort=probe")
    page.get_by_label("Select every site on this page").check()
    expect(page.locator("#site-table tbody input[name=site]:checked")).to_have_count(12)
    page.get_by_label("Select every site on this page").uncheck()
    page.get_by_role("link", name="Clear").click()
    page.set_viewport_size({"width": 1440, "height": 1000})
    screenshot(page, "reseller-dashboard", full_page=True)
