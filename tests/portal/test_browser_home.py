"""Each demo role logs in through real headless Chromium and lands on its own home page."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sites.models import Site
from tests.fixtures.browser import screenshot, sign_in

SCOPES = {
    "acme-admin": {"organisation__slug": "acme-dental"},
    "acme-viewer": {"organisation__slug": "acme-dental"},
    "northwind": {"organisation__parent__slug": "northwind"},
    "support": {},
    "operator": {},
}
# username → (what the home page must show, screenshot name)
HOMES = {
    "acme-admin": ("Acme Dental", "home-customer-admin"),
    "acme-viewer": ("Read-only view", "home-customer-viewer"),
    "northwind": ("Client organisations", "home-reseller-admin"),
    "support": ("Recent activity, all organisations", "home-support"),
    "operator": ("System health", "home-operator"),
}


@pytest.mark.browser
@pytest.mark.parametrize("username", list(HOMES))
def test_each_demo_role_sees_its_home_page(live_server, page, username):
    call_command("seed_demo", stdout=io.StringIO())
    expected_text, name = HOMES[username]
    sign_in(page, live_server.url, username)
    page.wait_for_url(f"{live_server.url}/o/**")
    expect(page.locator("main").get_by_text(expected_text).first).to_be_visible()
    # Real figures, not a placeholder: the site count is the organisation's.
    expect(page.locator(".card .figure")).to_have_count(2 if username.startswith("acme") else 3)
    site_card = page.locator(".card", has=page.locator(".label", has_text="Sites"))
    expect(site_card.locator(".figure")).to_have_text(
        str(Site.objects.filter(**SCOPES[username]).count())
    )
    assert page.title().endswith("Rollout portal")
    screenshot(page, name)


@pytest.mark.browser
def test_wrong_password_shows_a_field_error_in_the_browser(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("acme-admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("correct username and password")).to_be_visible()
    screenshot(page, "login-error")
