"""The dashboard's bulk bar cannot be used while the table it belongs to is being replaced.

A filter change swaps the table; a bulk choice made in the old table before the swap used to be
lost in it, and "Regenerate instructions" then posted "the sites ticked below" with nothing ticked
(the reseller journey failed that way on a loaded machine). The filter's answer is slowed here so
the window is wide and certain.
"""

import io
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.fixtures.browser import sign_in


@pytest.mark.browser
def test_bulk_controls_wait_for_the_table_being_replaced(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    sign_in(page, live_server.url, "northwind")
    page.goto(f"{live_server.url}/o/northwind/sites/")

    def slow_table(route):
        if route.request.headers.get("hx-request"):
            time.sleep(1.5)
        route.continue_()

    page.route("**/o/northwind/sites/?*", slow_table)
    everything = page.get_by_label("sites matching the filter")
    page.locator("#id_organisation").select_option(label="Birch & Co Accountants")
    # In flight: the old table's bulk controls are disabled, so no choice can be made there.
    expect(everything).to_be_disabled()
    expect(page.get_by_role("button", name="Export CSV")).to_be_disabled()
    # Swapped: the new table's controls work, and a choice made now is the one that is posted.
    expect(everything).to_be_enabled(timeout=10_000)
    everything.check()
    expect(everything).to_be_checked()
    page.unroute("**/o/northwind/sites/?*")
    page.get_by_role("button", name="Export CSV").click()
    expect(page.locator("#bulk-errors")).to_have_count(0)
