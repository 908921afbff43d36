"""A reseller's staff member signs in through the identity provider in real headless Chromium:
the login page's "Sign in with …" button, the provider's own form (the real test provider, its
own process), and back in the portal with the membership the mapping grants. Someone the mapping
does not admit gets a page that says so. Screenshots at 1280 and 390 px."""

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from tests.factories import MembershipFactory, ProviderFactory, ResellerFactory, UserFactory
from tests.portal.test_browser_people import both_widths


def sign_in_through_provider(page, url: str, username: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_role("link", name="Sign in with Northwind IT").click()
    expect(page.get_by_role("heading", name="Test identity provider")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_role("button", name="Sign in at the provider").click()


@pytest.mark.browser
def test_a_resellers_staff_member_signs_in_through_the_provider(live_server, page, idp, use_sso):
    reseller = ResellerFactory(
        parent=ProviderFactory(), name="Northwind IT Services", slug="northwind"
    )
    MembershipFactory(user=UserFactory(), organisation=reseller, role=Role.RESELLER_ADMIN)
    idp.allow_redirects_to(live_server.url)
    use_sso(
        [
            {
                "email_domain": "northwind.example",
                "organisation": "northwind",
                "role": "reseller_admin",
            }
        ],
        name="Northwind IT",
    )
    idp.add_person("nina", email="nina@northwind.example", email_verified=True, given_name="Nina")
    idp.add_person("eve", email="eve@elsewhere.example", email_verified=True)

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()  # passwords still work
    expect(page.get_by_role("link", name="Sign in with Northwind IT")).to_be_visible()
    both_widths(page, "sso-login")

    sign_in_through_provider(page, live_server.url, "eve")
    expect(page.get_by_role("heading", name="No access through single sign-on")).to_be_visible()
    both_widths(page, "sso-refused")

    sign_in_through_provider(page, live_server.url, "nina")
    page.wait_for_url(f"{live_server.url}/o/northwind/**")
    expect(page.locator("main").get_by_text("Northwind IT Services").first).to_be_visible()
