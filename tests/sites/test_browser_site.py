"""A customer describes a site in real Chromium, fixes a bad field, and follows the first step."""
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.core.management.commands.seed_demo import DEMO_PASSWORD
from sites.models import Site
from sites.services.instructions import regenerate_site
from sites.services.rollouts import set_step_state
from tests.fixtures.browser import screenshot


@pytest.mark.browser
def test_customer_describes_a_site_and_marks_a_step_done(live_server, page):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("acme-admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{live_server.url}/o/acme-dental/sites/new/")
    page.get_by_label("Name", exact=True).fill("Dental lab")
    page.get_by_label("Firewall", exact=True).select_option("fortigate")
    page.get_by_label("Public address").fill("192.0.2.77")
    page.get_by_label("LAN network").fill("192.168.50.0/33")  # the bad field
    page.get_by_label("Firewall's LAN address").fill("192.168.50.1")
    page.get_by_label("Backup host address").fill("192.168.50.10")
    page.get_by_role("button", name="Save and get instructions").click()
    expect(page.locator("#id_lan_network_errors")).to_contain_text("LAN network")
    assert not Site.objects.filter(name="Dental lab").exists()
    screenshot(page, "site-form-error")

    page.get_by_label("LAN network").fill("192.168.50.0/24")
    page.get_by_role("button", name="Save and get instructions").click()
    expect(page.get_by_role("heading", name="Dental lab")).to_be_visible()
    site = Site.objects.get(name="Dental lab")
    regenerate_site(site_id=site.pk)  # what the worker does after the save
    page.reload()

    first_step = page.locator("li.step").first
    expect(first_step.locator("h3")).to_have_text("Create the address objects")
    expect(page.locator("pre").first).to_contain_text("config firewall address")
    first_step.get_by_placeholder("Note (optional)").fill("Done in the GUI")
    first_step.get_by_role("button", name="Done").click()
    expect(first_step.locator("[data-state]")).to_have_attribute("data-state", "done")
    # The summary follows without a reload.
    expect(page.locator("#rollout-summary")).to_contain_text("1 of 5 steps finished")
    site.refresh_from_db()
    step = site.current_instruction_set.rollout.steps.get(position=1)
    assert step.state == "done" and step.note == "Done in the GUI"

    # A colleague (or a probe) completes step 2 elsewhere: the open page shows it without a reload.
    second = site.current_instruction_set.rollout.steps.get(position=2)
    set_step_state(step=second, state="done", note="done by a colleague")
    expect(page.locator(f"#step-badge-{second.pk} [data-state]")).to_have_attribute(
        "data-state", "done", timeout=6_000
    )
    expect(page.locator("#rollout-summary")).to_contain_text("2 of 5 steps finished")
    page.set_viewport_size({"width": 1280, "height": 1400})
    screenshot(page, "site-rollout", full_page=False)
