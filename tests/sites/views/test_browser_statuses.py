"""The dashboard's flags and a proof request's job page, in real Chromium at 1280 and 390 px
(#13 points 1-3): every state a reseller reads says what is true."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from portal.jobs.models import Job, JobKind
from portal.jobs.services import claim_job
from sites.models import InstructionSet, ProbeRunState, Rollout, RolloutStep, Site
from sites.services import bulk
from tests.factories import ProbeRunFactory
from tests.fixtures.browser import screenshot, sign_in
from tests.sites.views.test_browser_reseller import give_the_demo_a_probe_history


def a_proof_behind_nat_and_a_stalled_rollout() -> None:
    site = Site.objects.get(name="Main office")
    Site.objects.filter(pk=site.pk).update(public_address="203.0.113.9")
    ProbeRunFactory(
        site=site,
        state=ProbeRunState.PROVEN,
        finished_at=timezone.now(),
        outcome={
            "nat_warning": "The probe arrived from 198.51.100.7, not from the site's public "
            "address 203.0.113.9: the address translation differs from the description."
        },
    )
    stalled = Site.objects.get(name="Depot south")
    then = timezone.now() - timedelta(days=12)
    InstructionSet.objects.filter(pk=stalled.current_instruction_set_id).update(created_at=then)
    Rollout.objects.filter(instruction_set_id=stalled.current_instruction_set_id).update(
        created_at=then
    )
    RolloutStep.objects.filter(
        rollout__instruction_set_id=stalled.current_instruction_set_id, changed_at__isnull=False
    ).update(changed_at=then)


def ask_customers_to_prove_again() -> Job:
    """The job as the workers run it (here, inline)."""
    reseller = Organisation.objects.get(slug="northwind")
    user = reseller.memberships.select_related("user").first().user
    job = bulk.start_bulk_job(
        kind=JobKind.BULK_REVERIFY,
        actor=Actor.for_user(user),
        organisation=reseller,
        site_ids=list(
            Site.objects.filter(organisation__parent=reseller).values_list("pk", flat=True)
        ),
    )
    claim_job(job_id=job.pk)
    for chunk in range(bulk.chunk_count(job)):
        bulk.run_chunk(job_id=job.pk, chunk=chunk)
    job.refresh_from_db()
    return job


@pytest.mark.browser
def test_the_dashboard_and_a_proof_request_say_what_is_true(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    give_the_demo_a_probe_history()
    a_proof_behind_nat_and_a_stalled_rollout()
    sign_in(page, live_server.url, "northwind")

    page.goto(f"{live_server.url}/o/northwind/sites/")
    table = page.locator("#site-table")
    expect(table).to_contain_text("Proven with a warning")
    expect(table).to_contain_text("Rollout stalled")
    expect(table).to_contain_text("Never proven")
    expect(table.locator(".state.proof-warning")).to_have_css("color", "rgb(154, 103, 0)")
    expect(page.get_by_text("{#")).to_have_count(0)
    screenshot(page, "dashboard-flags")
    page.get_by_label("Flag").select_option(label="Needs attention")
    # Who is stuck (failing, stale, stalled), not the 8 of 9 sites not proven yet.
    expect(table.locator("tbody tr")).to_have_count(3)
    screenshot(page, "dashboard-flags-attention")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "dashboard-flags-390")

    job = ask_customers_to_prove_again()
    sent = bulk.proof_requests(job)["sent"]
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/o/northwind/sites/jobs/{job.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ask customers to prove again")
    expect(page.locator(".job-summary")).to_contain_text(f"{sent} requests sent, 0 proven yet")
    expect(page.locator("#job-status")).not_to_contain_text("Succeeded")
    expect(page.locator("#job-status [data-state]")).to_have_text("Requests sent")
    screenshot(page, "reverify-job")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "reverify-job-390")
