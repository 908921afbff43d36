"""Every main page fits a 390 px phone: no sideways scrolling, a header that leaves room to read.

Each demo role logs in at 390×844 and visits the pages its menu offers. A page fails when the
document is wider than the viewport (the message names the widest element sticking out, outside
any scroll container) or when the header and menu push the content below ~120 px.
"""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from sites.models import ProbeRun, Site
from tests.fixtures.browser import screenshot, sign_in

PHONE = {"width": 390, "height": 844}
HEADER_LIMIT = 120  # px above the page's content (top bar and collapsed menu)
SCOPES = {
    "acme-admin": {"organisation__slug": "acme-dental"},
    "acme-viewer": {"organisation__slug": "acme-dental"},
    "northwind": {"organisation__parent__slug": "northwind"},
    "support": {},
    "operator": {},
}

# The element sticking out furthest, ignoring what a scrolling container clips.
WIDEST_OUTSIDE = """() => {
  const width = window.innerWidth;
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow !== "visible") return up.getBoundingClientRect().right <= width + 1;
    }
    return false;
  };
  let widest = null, right = width + 1;
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > right && !clipped(el)) { widest = el; right = box.right; }
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    [...el.classList].map((c) => "." + c).join("");
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    widest: widest ? `${name(widest)} (right edge ${Math.round(right)} px): ` +
      widest.textContent.trim().slice(0, 60) : null,
  };
}"""


def main_pages(org_slug: str, username: str) -> dict[str, str]:
    """Name → path of the pages to visit: the menu's pages plus a site and a probe run."""
    pages = {
        "home": reverse("org-home", args=[org_slug]),
        "sites": reverse("site-list", args=[org_slug]),
        "new site (first step)": reverse("site-create", args=[org_slug]),
        "audit": reverse("audit-list", args=[org_slug]),
        "members": reverse("member-list", args=[org_slug]),
        "profiles": reverse("profile-list", args=[org_slug]),
        "system health": reverse("system-health", args=[org_slug]),
        "API tokens": reverse("api-tokens"),
    }
    site = Site.objects.filter(**SCOPES[username]).order_by("pk").first()
    if site is not None:
        pages["site"] = reverse("site-detail", args=[site.organisation.slug, site.pk])
        pages["timeline of the site"] = reverse(
            "audit-site-timeline", args=[site.organisation.slug, site.pk]
        )
        run = ProbeRun.objects.filter(site=site).order_by("pk").first() or (
            ProbeRun.objects.filter(**{f"site__{k}": v for k, v in SCOPES[username].items()})
            .order_by("pk")
            .first()
        )
        if run is not None:
            pages["probe run"] = reverse(
                "probe-run", args=[run.site.organisation.slug, run.site.pk, run.pk]
            )
    return pages


@pytest.mark.browser
@pytest.mark.parametrize("username", list(SCOPES))
def test_every_main_page_fits_a_phone(live_server, browser, username):
    call_command("seed_demo", stdout=io.StringIO())
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, live_server.url, username)
    page.wait_for_url(f"{live_server.url}/o/**")
    org_slug = page.url.removeprefix(f"{live_server.url}/o/").split("/")[0]

    problems, visited = [], []
    for name, path in main_pages(org_slug, username).items():
        response = page.goto(f"{live_server.url}{path}")
        if response is None or response.status in (403, 404):
            continue  # not this role's page
        visited.append(name)
        page.wait_for_load_state("networkidle")
        measure = page.evaluate(WIDEST_OUTSIDE)
        if measure["scrollWidth"] > measure["innerWidth"]:
            problems.append(
                f"{name} ({path}) is {measure['scrollWidth']} px wide: {measure['widest']}"
            )
        content_top = page.evaluate("document.querySelector('main').getBoundingClientRect().top")
        if content_top > HEADER_LIMIT:
            problems.append(f"{name} ({path}): the content starts {content_top:.0f} px down")
        screenshot(page, f"mobile-{username}-{name.split(' ')[0].lower()}")
    context.close()
    assert "home" in visited and "sites" in visited
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_wide_screens_show_the_folded_header_open(live_server, page):
    """At 1280 px the folds' summaries are hidden and their content always shows."""
    call_command("seed_demo", stdout=io.StringIO())
    sign_in(page, live_server.url, "northwind")
    page.wait_for_url(f"{live_server.url}/o/**")
    expect(page.locator(".fold > summary").first).to_be_hidden()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name="Audit trail")).to_be_visible()
    screenshot(page, "home-reseller-admin")
    page.goto(f"{live_server.url}/o/northwind/clients/")
    screenshot(page, "clients-reseller-admin")
    page.goto(f"{live_server.url}/o/northwind/audit/")
    screenshot(page, "audit-reseller-admin")


# The rendered height of the diagram's smallest text: a phone does not shrink it out of reach.
SMALLEST_DIAGRAM_TEXT = """() => Math.min(...[...document.querySelectorAll('.diagram-figure svg text')]
  .map((text) => text.getBoundingClientRect().height))"""
READABLE_PX = 9


@pytest.mark.browser
def test_the_diagram_stays_readable_on_a_phone(live_server, browser):
    """Issue #13 (8): at 390 px the site's diagram keeps its text readable and scrolls inside its
    figure, instead of shrinking to the screen's width."""
    call_command("seed_demo", stdout=io.StringIO())
    site = Site.objects.get(name="Main office")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_server.url, "acme-admin")
    page.wait_for_url(f"{live_server.url}/o/**")
    page.goto(f"{live_server.url}{reverse('site-detail', args=[site.organisation.slug, site.pk])}")
    expect(page.locator(".diagram-figure svg text").first).to_be_visible()
    smallest = page.evaluate(SMALLEST_DIAGRAM_TEXT)
    print(f"smallest diagram text at 390 px: {smallest:.1f} px")
    assert smallest >= READABLE_PX, f"the diagram's text is {smallest:.1f} px high at 390 px"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
