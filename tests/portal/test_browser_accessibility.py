"""axe-core finds no serious or critical accessibility problem on the main pages of each role.

Each demo role logs in through real headless Chromium and visits its pages: home, the sites
dashboard, a site with its rollout, the wizard (with a field flagged live), people, audit, a site's
timeline, profiles, system health, a configuration check, API tokens, two-factor setup; the pages
before signing in (log in, a failed log in, password reset, the two-factor code) too. axe-core
(bundled in axe-playwright-python, nothing is fetched) checks each at 1280 px and at 390 px; the
test fails on every violation of impact "serious" or "critical", naming the page, the width, the
rule, the element and the rule's help page. No rule is switched off.
"""

import io

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from portal.accounts.models import Organisation
from portal.mfa import totp
from sites.models import ConfigAnalysis, Site
from sites.services.analysis import request_analysis, run_analysis
from tests.fixtures.browser import screenshot, sign_in
from tests.portal.test_browser_mobile import SCOPES, main_pages
from tests.sites.services.test_analysis import iptables_site
from tests.sites.views.test_browser_analysis import EXPORT

WIDTHS = {"1280 px": {"width": 1280, "height": 860}, "390 px": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")
# Pages whose fixes no other browser test photographs: role → page → screenshot name.
SHOTS = {"acme-admin": {"API tokens": "api-tokens", "sessions": "sessions"}}
AXE = Axe()


def violations(page, where: str, *, shot: str = "") -> list[str]:
    """One line per element that breaks a serious or critical rule, at each width; ``shot`` names
    the screenshots taken at both widths (docs/screenshots/<shot>.png and <shot>-390.png)."""
    found = []
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        # The page's resize handlers run before the next frame: axe sees it laid out at this width.
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
        if shot:
            screenshot(page, shot if viewport["width"] == 1280 else f"{shot}-390", full_page=False)
        results = AXE.run(page).response
        for rule in results["violations"]:
            if rule["impact"] not in BLOCKING:
                continue
            for node in rule["nodes"]:
                checks = node["any"] + node["all"] + node["none"]
                why = checks[0]["message"] if checks else rule["help"]
                found.append(
                    f"{where} at {width}: {rule['id']} ({rule['impact']}) on "
                    f"{' '.join(map(str, node['target']))}: {why} — {rule['helpUrl']}"
                )
    page.set_viewport_size(WIDTHS["1280 px"])
    return found


def pages_of(org_slug: str, username: str) -> dict[str, str]:
    """The phone test's pages, plus the pages each role's work leads to."""
    pages = main_pages(org_slug, username)
    pages["organisation settings"] = reverse("organisation-settings", args=[org_slug])
    pages["invite a member"] = reverse("invitation-create", args=[org_slug])
    pages["sessions"] = reverse("session-list")
    pages["two-factor setup"] = reverse("mfa-setup")
    pages["clients"] = reverse("client-list", args=[org_slug])
    pages["import"] = reverse("site-import", args=[org_slug])
    pages["lockouts"] = reverse("lockout-list", args=[org_slug])
    # A site with a rollout, and its configuration check once done.
    site = (
        Site.objects.filter(**SCOPES[username], current_instruction_set__isnull=False)
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    if site is not None:
        args = [site.organisation.slug, site.pk]
        pages["site with rollout"] = reverse("site-detail", args=args)
        pages["check a configuration"] = reverse("analysis-list", args=args)
        pages["monitoring access"] = reverse("site-monitoring", args=args)
        pages["agent key"] = reverse("probe-agent", args=args)
    scope = {f"site__{key}": value for key, value in SCOPES[username].items()}
    analysis = ConfigAnalysis.objects.filter(**scope).select_related("site__organisation").first()
    if analysis is not None:
        pages["configuration check"] = reverse(
            "analysis-detail",
            args=[analysis.site.organisation.slug, analysis.site.pk, analysis.pk],
        )
    return pages


def an_analysed_iptables_site() -> None:
    """A customer's iptables site checked against an export, analysed here (no worker)."""
    site = iptables_site(Organisation.objects.get(slug="acme-dental"), monitoring=True)
    analysis = request_analysis(site=site, vendor="iptables", config=EXPORT)
    run_analysis(analysis_id=analysis.pk)


@pytest.mark.browser
@pytest.mark.parametrize("username", list(SCOPES))
def test_axe_finds_nothing_serious_on_the_main_pages_of_each_role(live_server, page, username):
    call_command("seed_demo", stdout=io.StringIO())
    an_analysed_iptables_site()
    sign_in(page, live_server.url, username)
    page.wait_for_url(f"{live_server.url}/o/**")
    org_slug = page.url.removeprefix(f"{live_server.url}/o/").split("/")[0]

    problems, visited = [], []
    for name, path in pages_of(org_slug, username).items():
        response = page.goto(f"{live_server.url}{path}")
        if response is None or response.status in (403, 404):
            continue  # not this role's page
        page.wait_for_load_state("networkidle")
        visited.append(name)
        shot = SHOTS.get(username, {}).get(name, "")
        problems += violations(page, f"{name} ({path})", shot=shot)
    if "new site (first step)" in visited:
        # The wizard with a field flagged as it is typed (an htmx swap).
        page.goto(f"{live_server.url}{reverse('site-create', args=[org_slug])}")
        page.get_by_label("Public address").fill("not an address")
        expect(page.get_by_label("Public address")).to_have_attribute("aria-invalid", "true")
        problems += violations(page, "wizard with a flagged field")
    assert {"home", "sites", "site with rollout"} <= set(visited), visited
    assert not problems, f"{len(problems)} serious or critical problems:\n" + "\n".join(problems)


@pytest.mark.browser
def test_axe_finds_nothing_serious_before_signing_in(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    problems = []
    page.goto(f"{live_server.url}/accounts/login/")
    problems += violations(page, "log in")
    page.get_by_label("Username").fill("acme-admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("correct username and password")).to_be_visible()
    problems += violations(page, "log in, refused")
    page.goto(f"{live_server.url}{reverse('password_reset')}")
    problems += violations(page, "password reset")

    # Two-factor authentication: turning it on, the recovery codes, the code at the next log in.
    sign_in(page, live_server.url, "acme-admin")
    page.wait_for_url(f"{live_server.url}/o/**")
    page.goto(f"{live_server.url}{reverse('mfa-setup')}")
    app = pyotp.TOTP(page.locator("#mfa-secret").inner_text().replace(" ", ""))
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    problems += violations(page, "two-factor setup, refused")
    page.get_by_label("Code").fill(app.generate_otp(totp.current_step()))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes")).to_contain_text("-")
    problems += violations(page, "recovery codes")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/**")
    sign_in(page, live_server.url, "acme-admin")
    page.wait_for_url(f"{live_server.url}/accounts/mfa/verify/**")
    problems += violations(page, "two-factor code")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    problems += violations(page, "two-factor code, refused")
    assert not problems, f"{len(problems)} serious or critical problems:\n" + "\n".join(problems)
