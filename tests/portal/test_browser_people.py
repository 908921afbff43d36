"""People in real headless Chromium: a reseller creates a client and invites its admin by mail;
the admin follows the link, sets a password, logs in, and invites a viewer, who joins and sees the
site read-only. Screenshots at 1280 and 390 px wide go to docs/screenshots/people-*.png."""

import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from sites.management.commands.seed_demo import DEMO_PASSWORD
from tests.fixtures.browser import screenshot

LINK = re.compile(r"(https?://\S+/invitations/[^/\s]+/)")
PASSWORD = "harbour lights at midnight 7"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def invitation_link_to(address: str) -> str:
    """The link in the last mail to ``address``: the live server runs in this process, so its
    locmem outbox is this test's."""
    sent = [m for m in mail.outbox if address in m.to]
    assert sent, f"no invitation mail to {address}"
    return LINK.search(sent[-1].body).group(1)


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/o/**")


def both_widths(page, name: str) -> None:
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-mobile")
    page.set_viewport_size(DESKTOP)


def accept(page, link: str, first_name: str) -> None:
    page.goto(link)
    page.get_by_label("First name").fill(first_name)
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password confirmation").fill(PASSWORD)


@pytest.mark.browser
def test_a_new_client_gets_its_admin_and_a_viewer_without_the_shell(live_server, browser):
    call_command("seed_demo", stdout=io.StringIO())
    base = live_server.url
    reseller = browser.new_context(viewport=DESKTOP).new_page()

    # The reseller creates the client and names its first administrator.
    log_in(reseller, base, "northwind", DEMO_PASSWORD)
    reseller.goto(f"{base}/o/northwind/clients/new/")
    reseller.get_by_label("Name").fill("Harbour Clinic")
    reseller.get_by_label("First administrator's e-mail").fill("hana@harbour.test")
    both_widths(reseller, "people-client-invite")
    reseller.get_by_role("button", name="Create organisation").click()
    expect(reseller.get_by_text("An invitation went to hana@harbour.test")).to_be_visible()

    # The new admin follows the mailed link, sets a password and is signed in.
    admin = browser.new_context(viewport=DESKTOP).new_page()
    accept(admin, invitation_link_to("hana@harbour.test"), "Hana")
    expect(admin.get_by_text("Customer admin")).to_be_visible()
    both_widths(admin, "people-invitation-accept")
    admin.get_by_role("button", name="Create account and join").click()
    admin.wait_for_url(f"{base}/o/harbour-clinic/")
    expect(admin.get_by_text("Welcome to Harbour Clinic")).to_be_visible()

    # They log out and in again with their e-mail and the new password.
    admin.get_by_role("button", name="Log out").click()
    log_in(admin, base, "hana@harbour.test", PASSWORD)

    # They invite a viewer from the Members page.
    admin.get_by_role("link", name="Members").click()
    admin.get_by_label("E-mail").fill("vic@harbour.test")
    admin.get_by_label("Role", exact=True).select_option(label="Customer viewer")
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.get_by_text("Invitation sent to vic@harbour.test")).to_be_visible()
    expect(admin.locator("table.invitations")).to_contain_text("vic@harbour.test")
    both_widths(admin, "people-members")

    # The viewer accepts and sees the organisation read-only.
    viewer = browser.new_context(viewport=DESKTOP).new_page()
    accept(viewer, invitation_link_to("vic@harbour.test"), "Vic")
    viewer.get_by_role("button", name="Create account and join").click()
    viewer.wait_for_url(f"{base}/o/harbour-clinic/")
    expect(viewer.get_by_text("Read-only view")).to_be_visible()
    expect(viewer.get_by_role("link", name="Members")).to_have_count(0)
    both_widths(viewer, "people-viewer-home")

    # The admin sees the viewer as a member now, and their own sessions.
    admin.reload()
    expect(admin.locator("table.members")).to_contain_text("vic@harbour.test")
    admin.get_by_role("link", name="Sessions").click()
    expect(admin.get_by_text("This session")).to_be_visible()
    both_widths(admin, "people-sessions")


@pytest.mark.browser
def test_a_used_invitation_link_explains_itself(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    page.goto(f"{live_server.url}/invitations/not-a-real-token/")
    expect(page.get_by_role("heading", name="This invitation link is not valid")).to_be_visible()
    screenshot(page, "people-invitation-invalid")
