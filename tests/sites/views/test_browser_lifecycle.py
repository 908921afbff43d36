"""A site's life in real Chromium: the operator changes the service profile, reads its impact and
confirms it with a reason; the customer sees "change needed" with that reason instead of a
finished rollout silently dropping; then removes the monitoring access and proves it closed with
the real inbound check (nothing answers from outside any more).

Screenshots at 1280 and 390 px: lifecycle-impact-preview*, lifecycle-change-needed*,
lifecycle-removal* in docs/screenshots/.
"""

import io
import socket
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import expect

from portal.accounts.models import Organisation
from portal.jobs.models import Job
from sites import tasks
from sites.models import ProbeRun, ServiceProfile, Site, StepState
from sites.services.instructions import regenerate_site
from sites.services.rollouts import mark_step
from tests.factories import SiteFactory, site_description
from tests.fixtures.browser import screenshot, sign_in
from tests.fixtures.ports import free_port
from tests.sites.services.test_lifecycle import finish

REASON = "The provider added 198.51.100.0/24 to its datacenter networks on 2026-12-07."
PHONE = {"width": 390, "height": 844}


def in_worker(task, *args) -> None:
    """Run ``task`` in a thread of its own, as a worker would: Playwright's event loop runs in
    this one, and the inbound check runs its own."""

    def run():
        try:
            task(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)


def both_widths(page, name: str) -> None:
    screenshot(page, name)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(size)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_profile_change_announced_then_monitoring_removed_and_proven_closed(
    live_server, page, settings
):
    call_command("seed_demo", stdout=io.StringIO())
    settings.PROBE_ALLOW_PRIVATE = True  # a lab: the site's "public" address is loopback
    settings.PROBE_INBOUND_PORT_MAP = {
        "tcp/4403": free_port(),
        "udp/4403": free_port(socket.SOCK_DGRAM),
        "tcp/4401": free_port(),
    }
    acme = Organisation.objects.get(slug="acme-dental")
    site = SiteFactory(
        organisation=acme,
        name="Surgery Quay",
        vendor="iptables",
        public_address="127.0.0.1",
        description=site_description(
            name="Surgery Quay",
            vendor="iptables",
            host_os="linux",
            public_address="127.0.0.1",
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.7"],
        ),
    )
    regenerate_site(site_id=site.pk)
    finish(site)  # version 1 applied: its rollout is done
    profile = ServiceProfile.objects.default()

    # The operator: the impact first, then the confirmation with a reason.
    sign_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/o/securidata/profiles/{profile.pk}/edit/")
    networks = page.get_by_label("Datacenter networks")
    networks.fill(networks.input_value() + "\n198.51.100.0/24")
    page.get_by_role("button", name="Preview the impact").click()
    expect(page.locator("#impact")).to_contain_text("Datacenter networks: added 198.51.100.0/24")
    expect(page.locator("#impact")).to_contain_text("steps to change")
    assert ServiceProfile.objects.get(pk=profile.pk).revision == profile.revision  # not saved
    both_widths(page, "lifecycle-impact-preview")
    page.get_by_label("Why (shown to the customers").fill(REASON)
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.get_by_text("Profile saved")).to_be_visible()
    job = Job.objects.get(kind="rederive_profile")
    # What the workers do with the job: re-derive the profile's sites.
    tasks.regenerate_sites_chunk(job.pk, list(Site.objects.values_list("pk", flat=True)))
    page.get_by_role("button", name="Log out").click()

    # The customer: a notice at home, "change needed" with the reason on the site.
    sign_in(page, live_server.url, "acme-admin")
    expect(page.locator(".notices")).to_contain_text(REASON)
    page.goto(f"{live_server.url}/o/acme-dental/sites/{site.pk}/")
    summary = page.locator("#rollout-summary")
    expect(summary).to_contain_text("Change needed:")
    expect(summary).to_contain_text(REASON)
    expect(summary).to_contain_text("Your firewall has version 1 applied")
    both_widths(page, "lifecycle-change-needed")

    # The plan applied (its steps marked), then the monitoring access removed.
    finish(site)
    page.reload()
    page.get_by_role("link", name="Remove monitoring access").click()
    page.get_by_label("Reason").fill("The MSP no longer monitors this site")
    page.get_by_label("Yes, remove the monitoring access").check()
    page.get_by_role("button", name="Remove monitoring access").click()
    expect(page.locator("#rollout-summary")).to_contain_text("Removal needed:")
    # The customer removed the forward on the firewall; the closing check is the probe's.
    site.refresh_from_db()
    closing = "Prove the monitoring ports are closed"
    for step in site.current_instruction_set.rollout.steps.exclude(title=closing):
        mark_step(step=step, state=StepState.DONE)
    page.reload()
    page.get_by_role("button", name="Prove monitoring is closed").click()
    page.get_by_role("button", name="The listener runs: check now").click()
    expect(page.locator("#probe-check-answer")).to_contain_text("a worker connects")
    run = ProbeRun.objects.get(site=site, purpose="closure")
    in_worker(tasks.run_inbound_check.run, run.pk)  # what the worker does: nothing answers
    page.reload()
    expect(page.locator("#monitoring-access")).to_contain_text("Closed, proven at")
    expect(page.locator(f"li.step:has-text('{closing}')")).to_contain_text("Proven by probe run")
    expect(page.locator("#rollout-summary")).to_contain_text("Done")
    both_widths(page, "lifecycle-removal")
