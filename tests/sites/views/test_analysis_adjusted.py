"""The site page after a configuration check: the remaining steps show the instructions adjusted
to the checked configuration (the customer's objects reused, a rule placed above a deny), only
from the latest check for the current instructions."""

from __future__ import annotations

import html

import pytest
from django.test import Client

from sites.services import analysis as service
from tests.sites.analyzer.test_adjusted import FORTIGATE_CUSTOMER, IPTABLES_MANGLE_DROP
from tests.sites.services.test_analysis import PARTIAL, iptables_site
from tests.sites.services.test_applied_check import fortigate_site

pytestmark = pytest.mark.django_db


def page_of(world, site) -> str:
    client = Client()
    client.force_login(world.people["customer_admin"])
    url = f"/o/{site.organisation.slug}/sites/{site.pk}/"
    return html.unescape(client.get(url).content.decode())


def check(site, vendor: str, config: str):
    analysis = service.request_analysis(site=site, vendor=vendor, config=config)
    return service.run_analysis(analysis_id=analysis.pk)


def test_a_rule_placed_above_the_customers_drop_is_shown_with_the_reason(world):
    site = iptables_site(world.customer)
    before = page_of(world, site)
    assert "Adjusted to your configuration" not in before

    analysis = check(site, "iptables", IPTABLES_MANGLE_DROP)
    (adjusted,) = analysis.details["adjusted_steps"]
    assert adjusted["title"].startswith("Allow the backup traffic")
    page = page_of(world, site)
    assert "Adjusted to your configuration</span> by" in page
    assert f"configuration check #{analysis.pk}</a>: Your rule at line 7" in page
    assert "Your rule at line 7 `-A FORWARD -p tcp -m tcp --dport 4000:4999 -j DROP`" in page
    assert "*mangle\n# Above your line 7 (FORWARD)" in page
    assert "The instructions without this check's adjustments" in page
    client = Client()
    client.force_login(world.people["customer_viewer"])
    detail = f"/o/{site.organisation.slug}/sites/{site.pk}/analyses/{analysis.pk}/"
    detail_page = html.unescape(client.get(detail).content.decode())
    assert "The steps still to do, adjusted to this configuration" in detail_page
    assert "Allow the backup traffic through the firewall (filter table): Your rule at line 7" in (
        detail_page
    )

    # A newer check of a configuration without that drop replaces the advice.
    newer = check(site, "iptables", PARTIAL)
    assert newer.details["adjusted_steps"] == []
    page = page_of(world, site)
    assert "Adjusted to your configuration" not in page and "*mangle" not in page


def test_existing_objects_are_reused_in_the_remaining_steps(world):
    site = fortigate_site(world.customer)
    analysis = check(site, "fortigate", FORTIGATE_CUSTOMER)
    titles = [a["title"] for a in analysis.details["adjusted_steps"]]
    assert titles[0] == "Create the address objects and groups"
    page = page_of(world, site)
    assert (
        "Uses your existing address object LAN_BACKUP (line 59) instead of creating obm-host"
        in page
    )
    assert 'set srcaddr "LAN_BACKUP"' in page and "move <ID of obm-backup-out> before 5" in page
