"""Every main page, as every demo role, in real Chromium under the Content-Security-Policy
(issue #14 point 6): any policy violation or console error fails the test.

The page records ``securitypolicyviolation`` events from its first script on; a page a role may
not see (403/404) is still loaded, its own status is then expected, but its policy is checked too.
"""

import io

import pytest
from django.core.management import call_command

from sites.models import Site
from tests.fixtures.browser import sign_in

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""

# username -> the organisation whose pages they open (one that has sites)
ROLES = {
    "support": "acme-dental",
    "operator": "acme-dental",
    "northwind": "acme-dental",
    "blueharbour": "delta-architects",
    "acme-admin": "acme-dental",
    "acme-viewer": "acme-dental",
    "delta-admin": "delta-architects",
}


def pages_of(org_slug: str) -> list[str]:
    site = Site.objects.filter(organisation__slug=org_slug).order_by("pk").first()
    own = f"/o/{org_slug}"
    return [
        "/",
        f"{own}/",
        f"{own}/sites/",
        f"{own}/sites/{site.pk}/",
        f"{own}/sites/new/",
        f"{own}/audit/",
        f"{own}/profiles/",
        f"{own}/system/",
        "/api/docs/",
        "/api/tokens/",
    ]


@pytest.mark.browser
@pytest.mark.parametrize("username", ROLES)
def test_every_page_loads_without_a_policy_violation(live_server, page, username):
    call_command("seed_demo", stdout=io.StringIO())
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and r.request.resource_type != "document"
            and problems.append(f"{r.status} for {r.url}")
        ),
    )

    sign_in(page, live_server.url, username)
    page.wait_for_url(lambda url: "/login/" not in url)

    for path in pages_of(ROLES[username]):
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if path == "/api/docs/":
            page.locator(".swagger-ui .info").wait_for()
        if response.status >= 400:
            # Chromium reports the refused document itself as a console error: not a problem here.
            problems[:] = [p for p in problems if "Failed to load resource" not in p]
        violations = page.evaluate("window.__csp")
        assert not violations, f"{username} on {path}: {violations}"
        assert not problems, f"{username} on {path}: {problems}"


@pytest.mark.browser
def test_the_moved_handlers_still_work(live_server, page):
    """The select-all box, the organisation switcher and the progress bars ran as inline code."""
    call_command("seed_demo", stdout=io.StringIO())
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, live_server.url, "northwind")

    page.goto(f"{live_server.url}/o/acme-dental/sites/")
    page.get_by_label("Select every site on this page").check()
    boxes = page.locator("tbody input[name=site]")
    assert boxes.count() > 0
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    widths = page.locator(".progress > span").evaluate_all("spans => spans.map(s => s.style.width)")
    assert widths and all(width.endswith("%") for width in widths)

    page.locator("#org-switcher").select_option("birch-co")
    page.wait_for_url("**/o/birch-co/**")
    assert page.evaluate("window.__csp") == []
