"""A customer admin turns on two-factor authentication in real headless Chromium, with a code the
test computes from the key shown on the page, then signs in again with a code."""

import io

import pyotp
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.mfa import totp
from sites.management.commands.seed_demo import DEMO_PASSWORD
from tests.fixtures.browser import screenshot

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def screenshots(page, name: str) -> None:
    """The page at 1280 px and at 390 px wide."""
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def log_in(page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill("acme-admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
def test_a_customer_admin_turns_on_totp_and_signs_in_with_it(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/o/**")

    page.get_by_role("link", name="2FA").click()
    expect(page.get_by_role("heading", name="Turn on two-factor authentication")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    screenshots(page, "mfa-enrol")
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)
    page.get_by_label("Code").fill(app.generate_otp(totp.current_step()))
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Two-factor authentication is on")).to_be_visible()
    expect(page.locator("#recovery-codes")).to_contain_text("-")
    screenshots(page, "mfa-recovery-codes")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/accounts/mfa/verify/**")
    expect(page.get_by_role("heading", name="Two-factor code")).to_be_visible()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    screenshots(page, "mfa-verify")
    # The enrolment used the current step's code; the next step's is within the window.
    page.get_by_label("Code").fill(app.generate_otp(totp.current_step() + 1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{live_server.url}/o/**")
    expect(page.locator("main").get_by_text("Acme Dental").first).to_be_visible()

    page.get_by_role("link", name="Security").click()
    page.get_by_label("Require two-factor authentication of every member").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Security settings saved.")).to_be_visible()
    screenshots(page, "mfa-organisation-security")
