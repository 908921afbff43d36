"""A customer admin pastes rows into the import page, sees the format of every column, and
chooses to import the clean rows while the bad one is listed with its reason, in real Chromium
at 1280 and 390 px."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sites.models import Site
from tests.fixtures.browser import screenshot, sign_in
from tests.portal.test_browser_mobile import PHONE, WIDEST_OUTSIDE

PASTED = "\n".join(
    [
        "name,vendor,lan_network,lan_gateway,host_addressing,host_address",
        "Dock office,fortigate,192.168.40.0/24,192.168.40.1,static,192.168.40.10",
        "Cellar,opnsense,192.168.41.0/24,192.168.41.1,static,10.9.9.9",  # outside its LAN
        "Garage,mikrotik,192.168.42.0/24,192.168.42.1,dhcp,",
    ]
)


@pytest.mark.browser
def test_pasted_rows_with_one_bad_row_import_the_clean_ones_by_choice(live_server, browser):
    call_command("seed_demo", stdout=io.StringIO())
    for width, viewport in ((1280, {"width": 1280, "height": 900}), (390, PHONE)):
        Site.objects.filter(name__in=["Dock office", "Garage"]).delete()
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server.url, "acme-admin")
        page.wait_for_url(f"{live_server.url}/o/**")
        page.goto(f"{live_server.url}/o/acme-dental/sites/import/")
        # The help lists every column, and the vendor slugs on demand.
        expect(page.locator("#column-firewall_interface")).to_be_visible()
        page.get_by_text("firewalls: their slugs").click()
        expect(page.locator("#column-vendor")).to_contain_text("mikrotik")
        page.get_by_label("Or paste the rows").fill(PASTED)
        page.get_by_role("button", name="Check the file").click()
        expect(
            page.get_by_role("heading", name="1 problem in the file — nothing was imported")
        ).to_be_visible()
        expect(page.locator("table.problems tbody tr").first).to_contain_text("Line 3")
        assert not Site.objects.filter(name="Dock office").exists()
        suffix = "" if width == 1280 else "-390"
        screenshot(page, f"import-paste-problems{suffix}")
        page.get_by_role("button", name="Import 2 clean rows, leave out 1").click()
        expect(
            page.get_by_role(
                "heading", name="2 sites imported into Acme Dental; 1 row not imported"
            )
        ).to_be_visible()
        expect(page.locator("table.skipped tbody tr")).to_have_count(1)
        expect(page.locator("table.skipped")).to_contain_text("Cellar")
        measure = page.evaluate(WIDEST_OUTSIDE)
        assert measure["scrollWidth"] <= measure["innerWidth"], measure["widest"]
        screenshot(page, f"import-result{suffix}")
        assert set(
            Site.objects.filter(name__in=["Dock office", "Cellar", "Garage"]).values_list(
                "name", flat=True
            )
        ) == {"Dock office", "Garage"}
        page.get_by_role("link", name="See the imported sites").click()
        expect(page.locator("#site-table")).to_contain_text("Dock office")
        context.close()
