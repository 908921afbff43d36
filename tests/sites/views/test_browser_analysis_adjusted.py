"""The site page in real Chromium after a configuration check that found a drop running before
our rules: the step to do shows the adjusted configuration (our rules also in mangle FORWARD,
above the drop) with the reason and the check's link, the plain instructions folded below, and
the page does not scroll sideways on a phone. Screenshot at 1280 px."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.accounts.models import Organisation
from sites.services import analysis as service
from tests.fixtures.browser import screenshot, sign_in
from tests.sites.analyzer.test_adjusted import IPTABLES_MANGLE_DROP
from tests.sites.services.test_analysis import iptables_site


@pytest.mark.browser
def test_the_rollout_shows_the_step_adjusted_to_the_checked_configuration(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    site = iptables_site(Organisation.objects.get(slug="acme-dental"))
    analysis = service.request_analysis(site=site, vendor="iptables", config=IPTABLES_MANGLE_DROP)
    analysis = service.run_analysis(analysis_id=analysis.pk)
    (adjusted,) = analysis.details["adjusted_steps"]
    step = site.current_instruction_set.rollout.steps.get(
        vendor="iptables", number=adjusted["number"]
    )

    sign_in(page, live_server.url, "acme-admin")
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/o/acme-dental/sites/{site.pk}/")
    item = page.locator(f"#step-{step.position}")
    folded = item.locator("details.step-folded > summary")
    if folded.count():  # folded unless it is the next step to do
        folded.click()
    note = item.locator(".step-adjusted")
    expect(note).to_contain_text("Adjusted to your configuration")
    expect(note).to_contain_text(f"configuration check #{analysis.pk}")
    expect(note).to_contain_text("Your rule at line 7")
    expect(item.locator(f"#config-{step.position}")).to_contain_text("*mangle")
    expect(item.locator(".plain-config")).not_to_have_attribute("open", "")
    page.evaluate(f"document.getElementById('step-{step.position}').scrollIntoView()")
    screenshot(page, "analysis-rollout-adjusted", full_page=False)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the site page scrolls sideways on a phone: {width}px"
