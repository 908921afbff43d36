"""The dashboard's headline counts in real Chromium with a real worker (#15 point 1): the page
loads without counting, says it is counting, and the counts arrive by the headline's poll; axe
finds nothing serious in either state."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.fixtures.browser import sign_in
from tests.portal.test_browser_accessibility import violations
from tests.sites.views.test_browser_reseller import give_the_demo_a_probe_history


@pytest.mark.browser
@pytest.mark.worker
def test_the_headline_counted_by_a_worker_arrives_on_the_open_page(
    live_server, celery_worker_process, page, settings
):
    settings.DASHBOARD_COUNTS_SECONDS = 60
    call_command("seed_demo", stdout=io.StringIO())
    give_the_demo_a_probe_history()
    sign_in(page, live_server.url, "northwind")
    page.wait_for_url(f"{live_server.url}/o/**")

    polls = []
    page.on(
        "response",
        lambda response: "headline=1" in response.url and polls.append(response.status),
    )
    response = page.goto(f"{live_server.url}/o/northwind/sites/")
    assert "Counting the flags…" in response.text()  # what the page said when it was served
    # Axe on the page as served (the counts may arrive meanwhile: either state must pass).
    assert violations(page, "dashboard while counting", shot="dashboard-headline-counting") == []

    headline = page.locator("#headline")
    expect(headline.get_by_role("link", name="Proof failing")).to_be_visible(timeout=30_000)
    expect(headline).to_contain_text("counted at")
    expect(headline).not_to_contain_text("Counting")
    assert polls and polls[-1] == 286, polls  # the poll stopped once the counts were there
    count_of_polls = len(polls)
    page.wait_for_timeout(2500)
    assert len(polls) == count_of_polls  # and does not start again
    assert violations(page, "dashboard counted", shot="dashboard-headline") == []
