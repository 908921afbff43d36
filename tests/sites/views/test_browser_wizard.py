"""A customer adds a site with the wizard in real Chromium: a bad LAN network is flagged while it is
typed (no submit), the fix clears it, the review shows the derived rules, and confirming lands on
the new site's page."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.audit.models import AuditEvent
from sites.models import Site
from tests.fixtures.browser import screenshot, sign_in
from tests.portal.test_browser_accessibility import violations


def top_screenshot(page, name):
    """A full-page screenshot from the top, so the sticky rule panel sits where a reader sees it."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


@pytest.mark.browser
def test_customer_adds_a_site_with_the_wizard(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    sign_in(page, live_server.url, "acme-admin")
    page.goto(f"{live_server.url}/o/acme-dental/sites/")
    page.get_by_role("link", name="New site").click()

    # Step 1: the site and its firewall; each question says why it is asked.
    expect(page.get_by_role("heading", name="Site and firewall")).to_be_visible()
    expect(page.locator("#question-vendor .why")).to_contain_text(
        "This will depend on the type of firewall"
    )
    page.get_by_label("Name", exact=True).fill("Dental lab")
    page.get_by_label("Firewall", exact=True).select_option("fortigate")
    expect(page.locator("#id_vendor_errors")).to_contain_text("FortiOS")  # the live check's note
    page.get_by_label("Inside (LAN) interface").fill("port2")
    page.get_by_label("Outside (Internet) interface").fill("wan1")
    page.get_by_label("Public address").fill("192.0.2.77")
    top_screenshot(page, "wizard-step-1")
    page.get_by_role("button", name="Continue →").click()

    # Step 2: a bad LAN network is flagged as it is typed, without submitting anything.
    expect(page.get_by_role("heading", name="Network and backup host")).to_be_visible()
    url = page.url
    page.get_by_label("LAN network").fill("192.168.50.0/33")
    errors = page.locator("#id_lan_network_errors")
    expect(errors).to_contain_text("LAN network: '192.168.50.0/33' is not a network in CIDR form")
    expect(page.get_by_label("LAN network")).to_have_attribute("aria-invalid", "true")
    assert page.url == url and not Site.objects.filter(name="Dental lab").exists()
    page.get_by_label("Firewall's LAN address").fill("192.168.50.1")
    page.get_by_label("Backup host address").fill("192.168.60.10")
    top_screenshot(page, "wizard-live-error")

    # Fixing the network clears its error; the host address outside it is flagged on its own field.
    page.get_by_label("LAN network").fill("192.168.50.0/24")
    expect(errors).to_be_empty()
    expect(page.locator("#id_host_address_errors")).to_contain_text(
        "is not inside the LAN 192.168.50.0/24"
    )
    page.get_by_label("Backup host address").fill("192.168.50.10")
    expect(page.locator("#id_host_address_errors")).to_be_empty()
    # The rules follow the answers live, beside the questions.
    preview = page.locator("#wizard-preview")
    expect(preview).to_contain_text("Allow out TCP 4401")
    expect(preview).to_contain_text("192.168.50.10 → datacenter")
    page.get_by_label("A range of addresses", exact=False)  # the other choices are there
    top_screenshot(page, "wizard-step-2")
    page.get_by_role("button", name="Continue →").click()

    # Step 3: remote monitoring from one office; the sources question appears when ticked.
    expect(
        page.get_by_role("heading", name="Remote monitoring and multi-homed host")
    ).to_be_visible()
    sources = page.get_by_label("Monitoring from")
    expect(sources).to_be_hidden()
    page.get_by_label("Monitor the backup with the Java GUI from outside").check()
    expect(sources).to_be_visible()
    sources.fill("198.51.100.7")
    expect(preview).to_contain_text("Forward in (port-forward) TCP 4403, UDP 4403, TCP 4401")
    expect(preview).to_contain_text("198.51.100.7/32 → the firewall's public address 192.0.2.77")
    top_screenshot(page, "wizard-step-3")
    page.get_by_role("button", name="Review the rules →").click()

    # Review: the answers with Change buttons, the derived rules with reasons, the diagram.
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    expect(page.locator(".summary-card").first).to_contain_text("Fortinet FortiGate")
    rules = page.locator("table.rules-table").first
    expect(rules).to_contain_text("Forward in (port-forward)")
    expect(rules).to_contain_text("Guide rule 4: Remote monitoring")
    expect(page.locator(".diagram-figure svg")).to_be_visible()
    top_screenshot(page, "wizard-review")
    # The review (rules table, diagram) at both widths: nothing serious for axe-core.
    problems = violations(page, "wizard review")
    assert not problems, "\n".join(problems)
    page.set_viewport_size({"width": 390, "height": 844})
    top_screenshot(page, "wizard-review-390")  # the diagram scrolls inside its figure
    page.set_viewport_size({"width": 1280, "height": 860})

    # Change step 1 and come straight back: nothing typed is lost.
    page.get_by_role("button", name="Change Site and firewall").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dental lab")
    page.get_by_role("button", name="Back to the review").click()
    expect(page.get_by_role("heading", name="Review your answers")).to_be_visible()
    assert not Site.objects.filter(name="Dental lab").exists()

    page.get_by_role("button", name="Confirm and create").click()
    expect(page.get_by_role("heading", name="Dental lab")).to_be_visible()
    site = Site.objects.get(name="Dental lab")
    assert re.search(rf"/o/acme-dental/sites/{site.pk}/$", page.url)
    assert site.description["monitoring_sources"] == ["198.51.100.7/32"]
    assert site.description["inside_interface"] == "port2"
    assert AuditEvent.objects.filter(action="site.created", object_id=str(site.pk)).count() == 1


@pytest.mark.browser
def test_an_answer_on_step_3_that_breaks_step_2_is_flagged_at_once(live_server, page):
    """Remote monitoring needs the backup host's fixed address; with DHCP and none, the page says
    so as soon as monitoring is ticked, and takes the customer to the question."""
    call_command("seed_demo", stdout=io.StringIO())
    sign_in(page, live_server.url, "acme-admin")
    page.goto(f"{live_server.url}/o/acme-dental/sites/new/")
    page.get_by_label("Name", exact=True).fill("Depot")
    page.get_by_label("Firewall", exact=True).select_option("sonicwall")
    page.get_by_role("button", name="Continue →").click()
    page.get_by_label("LAN network").fill("10.1.0.0/24")
    page.get_by_label("Firewall's LAN address").fill("10.1.0.1")
    page.get_by_label("An address from DHCP").check()
    expect(page.get_by_label("The host has (or will get) a DHCP reservation")).to_be_visible()
    expect(page.locator("#wizard-preview")).to_contain_text("Create a DHCP reservation")
    page.get_by_role("button", name="Continue →").click()

    # A multi-homed host: a gateway outside its card's network is flagged in its own cell.
    page.get_by_label("The backup host has more than one").check()
    page.get_by_label("Interface 1 name").fill("LAN")
    page.get_by_label("Interface 1 index").fill("12")
    page.get_by_label("Interface 1 address").fill("10.1.0.9")
    page.get_by_label("Interface 1 network").fill("10.1.0.0/24")
    page.get_by_label("Interface 1 gateway").fill("10.2.0.1")
    expect(page.locator("#id_iface-0-gateway_errors")).to_contain_text(
        "Interface 1 gateway: The gateway 10.2.0.1"
    )
    page.get_by_label("Host interface facing this firewall").fill("LAN")
    page.get_by_label("Monitor the backup with the Java GUI from outside").check()
    expect(page.locator("#wizard-earlier")).to_contain_text(
        "Step 2, Network and backup host: Backup host address"
    )
    top_screenshot(page, "wizard-multi-homed")

    page.get_by_role("button", name="Take me there").click()
    expect(page.get_by_role("heading", name="Network and backup host")).to_be_visible()
    expect(page.locator("#id_host_address_errors")).to_contain_text(
        "Remote monitoring forwards ports"
    )
    assert not Site.objects.filter(name="Depot").exists()
