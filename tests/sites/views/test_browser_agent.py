"""A customer admin sets up the probe agent from the site page, in real Chromium."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sites.models import Site
from sites.services.agent import site_for_agent_key
from tests.fixtures.browser import screenshot, sign_in


@pytest.mark.browser
def test_a_customer_makes_an_agent_key_and_gets_the_schedule_lines(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    sign_in(page, live_server.url, "acme-admin")
    site = Site.objects.filter(organisation__slug="acme-dental").order_by("pk").first()

    page.goto(f"{live_server.url}/o/acme-dental/sites/{site.pk}/")
    page.get_by_role("link", name="set up the probe agent").click()
    expect(page.get_by_text("No agent")).to_be_visible()
    page.get_by_role("button", name="Make an agent key").click()

    key = page.locator("#agent-key").inner_text().strip()
    assert site_for_agent_key(key) == site
    expect(page.locator("#agent-cron")).to_contain_text(f"--agent-key '{key}'")
    expect(page.locator("#agent-task")).to_contain_text("Register-ScheduledTask")
    expect(page.get_by_text("Agent key active")).to_be_visible()
    screenshot(page, "site-probe-agent")

    page.reload()  # shown once: a reload repeats nothing
    expect(page.locator("#agent-key")).to_have_count(0)
