"""The operator reads the configuration checks on System health, in Chromium at 1280 and 390 px
(#13: a probe responder outside the datacenter networks is shown where the operator looks)."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.fixtures.browser import screenshot, sign_in


@pytest.mark.browser
@pytest.mark.parametrize(("width", "suffix"), [(1280, ""), (390, "-390")])
def test_the_operator_sees_a_misplaced_probe_responder(
    live_server, browser, settings, width, suffix
):
    settings.PROBE_RESPONDER_HOST = "192.0.2.50"  # outside the guide profile's 203.0.113.0/24
    settings.PROBE_CHECK_SOURCE = "198.51.100.200"
    call_command("seed_demo", stdout=io.StringIO())
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server.url, "operator")
    page.wait_for_url(f"{live_server.url}/o/**")
    org_slug = page.url.removeprefix(f"{live_server.url}/o/").split("/")[0]
    page.goto(f"{live_server.url}/o/{org_slug}/system/")
    checks = page.locator("#configuration")
    expect(checks.get_by_role("heading", name="Configuration checks")).to_be_visible()
    expect(checks).to_contain_text("The probe responder 192.0.2.50 is outside the datacenter")
    expect(checks).to_contain_text("Fix: Add the responder's network")
    width_now = page.evaluate("document.documentElement.scrollWidth")
    assert width_now <= width, f"the page is {width_now} px wide at {width} px"
    screenshot(page, f"system-health-operator{suffix}")
    context.close()
