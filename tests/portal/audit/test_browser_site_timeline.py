"""Support follows one site's story on its timeline, in real Chromium at 1280 and 390 px."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sites.models import Site
from sites.services.probes import start_probe_run
from tests.fixtures.browser import screenshot, sign_in
from tests.portal.test_browser_mobile import PHONE, WIDEST_OUTSIDE


@pytest.mark.browser
def test_support_reads_a_sites_timeline_from_its_page(live_server, browser):
    call_command("seed_demo", stdout=io.StringIO())
    site = Site.objects.get(organisation__slug="acme-dental", name="Main office")
    start_probe_run(site=site, direction="outbound")  # a check on the timeline too
    site_url = f"{live_server.url}/o/{site.organisation.slug}/sites/{site.pk}/"
    for name, viewport in (
        ("site-timeline", {"width": 1280, "height": 860}),
        ("site-timeline-390", PHONE),
    ):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server.url, "support")
        page.goto(site_url)
        page.get_by_role("link", name="Timeline").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Timeline of {site.name}")
        entries = page.locator(".site-timeline li.entry")
        expect(entries.first).to_be_visible()
        expect(page.locator(".site-timeline")).to_contain_text("Prepared new instructions")
        expect(page.locator(".site-timeline")).to_contain_text("instructions.generated")  # support
        # One kind at a time: the checks only.
        page.get_by_label("Show").select_option("probes")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(f"{site_url.replace('/sites/', '/audit/site/')}?kind=probes")
        expect(page.locator(".site-timeline .strand").first).to_have_text("Checks")
        page.get_by_label("Show").select_option("")
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".site-timeline .strand").first).to_have_text("Site")
        page.wait_for_load_state("networkidle")
        measure = page.evaluate(WIDEST_OUTSIDE)
        assert measure["scrollWidth"] <= measure["innerWidth"], measure["widest"]
        screenshot(page, name)
        context.close()


@pytest.mark.browser
def test_a_customer_admin_reads_words_on_the_timeline(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    site = Site.objects.get(organisation__slug="acme-dental", name="Main office")
    sign_in(page, live_server.url, "acme-admin")
    page.goto(f"{live_server.url}/o/acme-dental/audit/site/{site.pk}/")
    timeline = page.locator(".site-timeline")
    expect(timeline).to_contain_text("Prepared new instructions")
    expect(timeline).not_to_contain_text("instructions.generated")
