"""A customer admin adds a passkey in real headless Chromium, whose virtual authenticator (over
the DevTools protocol) answers navigator.credentials.create() and get() as a platform passkey
would; then signs in again with the password and the passkey alone."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.audit.models import AuditEvent
from portal.mfa.models import WebAuthnCredential
from tests.portal.test_browser_mfa import log_in, screenshots


def add_virtual_authenticator(page) -> tuple:
    """Chromium's virtual authenticator: a passkey on this device, verifying its user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


@pytest.mark.browser
def test_a_customer_admin_adds_a_passkey_and_signs_in_with_it(live_server, page, settings):
    settings.PORTAL_URL = live_server.url  # the relying party: http://localhost:<port>
    call_command("seed_demo", stdout=io.StringIO())
    cdp, authenticator = add_virtual_authenticator(page)
    errors: list[str] = []  # a script error or a policy violation would show here
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/o/**")

    page.get_by_role("link", name="2FA").click()
    expect(page.get_by_role("heading", name="Security keys and passkeys")).to_be_visible()
    # Without a name the browser is not asked.
    page.get_by_role("button", name="Add a security key or passkey").click()
    expect(page.get_by_text("Name: give the key a name first.")).to_be_visible()
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_role("button", name="Add a security key or passkey").click()
    expect(page.get_by_role("heading", name="Two-factor authentication is on")).to_be_visible()
    expect(page.locator("#recovery-codes")).to_contain_text("-")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1
    assert WebAuthnCredential.objects.get().name == "Work laptop"

    page.get_by_role("link", name="Continue").click()
    page.get_by_role("link", name="2FA").click()
    expect(page.get_by_role("cell", name="Work laptop", exact=True)).to_be_visible()
    screenshots(page, "passkey-settings")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    log_in(page, live_server.url)
    page.wait_for_url(f"{live_server.url}/accounts/mfa/verify/**")
    expect(page.get_by_role("heading", name="Security key or passkey")).to_be_visible()
    screenshots(page, "passkey-verify")
    page.get_by_role("button", name="Use a security key or passkey").click()
    page.wait_for_url(f"{live_server.url}/o/**")
    expect(page.locator("main").get_by_text("Acme Dental").first).to_be_visible()
    used = AuditEvent.objects.get(action="webauthn.used")
    assert used.after["name"] == "Work laptop" and used.after["sign_count"] >= 1
    assert WebAuthnCredential.objects.get().last_used_at is not None
    assert not errors, errors
