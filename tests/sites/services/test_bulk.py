"""The dashboard's bulk actions (sites.services.bulk: regenerate, re-verify, export) with their jobs,
from the dashboard's form to a real worker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.jobs.models import Job, JobKind, JobState
from portal.jobs.services import claim_job
from sites.models import InstructionSet, ProbeRun, ProbeRunState, Site
from sites.services import bulk
from sites.services.proof import refresh_proof_summary
from tests.factories import CustomerFactory, SiteFactory
from tests.fixtures.worker import wait_for
from tests.sites.selectors.test_dashboard import client_for, dashboard, described, names, probe


def run_job_inline(job: Job) -> Job:
    """What the workers do, in this process: claim, then every chunk (twice, to prove idempotence)."""
    claimed = claim_job(job_id=job.pk)
    assert claimed is not None
    for _ in range(2):
        for chunk in bulk.pending_chunks(claimed) or range(bulk.chunk_count(claimed)):
            bulk.run_chunk(job_id=job.pk, chunk=chunk)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_bulk_regenerate_counts_each_site_once_and_finishes(
    quiet_world, django_capture_on_commit_callbacks
):
    world = quiet_world
    for n in range(bulk.CHUNK_SIZE + 5):  # two chunks
        SiteFactory(organisation=world.sibling_customer, name=f"Branch {n}")
    client = client_for(world, "reseller_admin")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            f"/o/{world.reseller.slug}/sites/bulk/",
            {
                "action": "regenerate",
                "scope": "filter",
                "organisation": world.sibling_customer.slug,
            },
        )
    job = Job.objects.get(kind=JobKind.BULK_REGENERATE)
    assert (
        response.status_code == 302
        and response["Location"] == f"/o/{world.reseller.slug}/sites/jobs/{job.pk}/"
    )
    assert len(callbacks) == 1  # the fan-out task, after the commit
    assert job.progress_total == bulk.CHUNK_SIZE + 6 and job.organisation == world.reseller
    assert job.params["back"] == f"organisation={world.sibling_customer.slug}"
    assert AuditEvent.objects.filter(action="sites.bulk_queued", object_id=str(job.pk)).count() == 1

    job = run_job_inline(job)
    assert job.state == JobState.SUCCEEDED and job.progress_done == job.progress_total
    assert job.result == {"sites": bulk.CHUNK_SIZE + 6, "new": bulk.CHUNK_SIZE + 5, "unchanged": 1}
    assert (
        InstructionSet.objects.filter(site__organisation=world.sibling_customer).count()
        == bulk.CHUNK_SIZE + 6
    )
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert partial.status_code == 286 and b"56 of 56 sites done" in partial.content
    page = client.get(response["Location"]).content.decode()
    assert "New versions" in page and f"?organisation={world.sibling_customer.slug}" in page


@pytest.mark.django_db
def test_bulk_reverify_opens_probe_runs_only_where_proof_is_missing_stale_or_failing(
    quiet_world, mailoutbox, settings
):
    world = quiet_world
    settings.PROOF_REQUEST_DAYS, settings.PORTAL_URL = 5, "http://portal.test/"
    fresh, stale = described(world.customer, "Fresh"), described(world.customer, "Stale")
    waiting, undescribed = (
        described(world.sibling_customer, "Waiting"),
        SiteFactory(organisation=world.customer, name="New"),
    )
    probe(fresh, ProbeRunState.PROVEN, days_ago=1)
    probe(stale, ProbeRunState.PROVEN, days_ago=30)
    open_run = probe(waiting, ProbeRunState.WAITING, open_minutes=10)
    hq = world.sites[world.customer.slug]  # never proven
    client = client_for(world, "reseller_admin")
    response = client.post(
        f"/o/{world.reseller.slug}/sites/bulk/",
        {
            "action": "reverify",
            "site": [fresh.pk, stale.pk, waiting.pk, undescribed.pk, hq.pk],
        },
    )
    assert response.status_code == 302
    job = run_job_inline(Job.objects.get(kind=JobKind.BULK_REVERIFY))
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"sites": 5, "opened": 2, "fresh": 1, "already_waiting": 1, "refused": 1}
    opened = ProbeRun.objects.filter(state=ProbeRunState.WAITING).exclude(pk=open_run.pk)
    assert {run.site.name for run in opened} == {"Stale", hq.name}
    assert all(run.created_by == world.people["reseller_admin"] for run in opened)
    assert set(names(dashboard(client, world.reseller, flag="waiting"))) == {
        "Stale",
        hq.name,
        "Waiting",
    }
    # Requests that last days, not a 30-minute token nobody hears about (#13).
    for run in opened:
        lifetime = run.expires_at - run.created_at
        assert timedelta(days=5) - timedelta(minutes=1) < lifetime <= timedelta(days=5)
    # The customer's admins (only them) are mailed a link to each site's probe panel.
    assert sorted(m.to for m in mailoutbox) == [["customer_admin@example.test"]] * 2
    assert {m.body.split("\n")[5] for m in mailoutbox} == {
        f"http://portal.test/o/{world.customer.slug}/sites/{site.pk}/#probe" for site in (stale, hq)
    }
    assert AuditEvent.objects.filter(action="site.proof_requested").count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "Ask customers to prove again" in page and "Re-verify" not in page
    assert "2 requests sent, 0 proven yet" in page and "?flag=waiting" in page
    assert "Succeeded" not in page and "Requests sent" in page
    # Proofs are counted as they arrive; the finished job keeps following them.
    proof = opened.get(site=stale)
    ProbeRun.objects.filter(pk=proof.pk).update(
        state=ProbeRunState.PROVEN, finished_at=timezone.now()
    )
    refresh_proof_summary(site_ids=[stale.pk])
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert partial.status_code == 200 and b"2 requests sent, 1 proven yet" in partial.content


@pytest.mark.django_db
def test_bulk_actions_ask_the_permission_module(world):
    site = world.sites[world.customer.slug]
    for role, organisation in (("customer_viewer", world.customer), ("support", world.provider)):
        refused = client_for(world, role).post(
            f"/o/{organisation.slug}/sites/bulk/", {"action": "regenerate", "site": [site.pk]}
        )
        assert refused.status_code == 403, role
    # Reading is enough to export the selection.
    export = client_for(world, "customer_viewer").post(
        f"/o/{world.customer.slug}/sites/bulk/", {"action": "export_csv", "site": [site.pk]}
    )
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert site.name in b"".join(export.streaming_content).decode()
    # A customer admin regenerates its own sites.
    own = client_for(world, "customer_admin").post(
        f"/o/{world.customer.slug}/sites/bulk/", {"action": "regenerate", "site": [site.pk]}
    )
    assert own.status_code == 302
    assert not Job.objects.filter(kind__startswith="bulk", organisation=world.provider).exists()


@pytest.mark.django_db
def test_a_bulk_action_without_a_selection_is_answered_with_422(world):
    client = client_for(world, "reseller_admin")
    response = client.post(
        f"/o/{world.reseller.slug}/sites/bulk/", {"action": "regenerate", "vendor": "fortigate"}
    )
    assert response.status_code == 422
    assert "Select at least one site" in response.content.decode()
    assert response.context["filter_query"]["vendor"] == "fortigate"  # the page keeps its filter
    assert (
        client.post(
            f"/o/{world.reseller.slug}/sites/bulk/", {"action": "explode", "site": [1]}
        ).status_code
        == 422
    )
    assert not Job.objects.filter(kind__startswith="bulk").exists()


@pytest.mark.django_db
def test_a_chunk_delivered_after_the_job_finished_changes_nothing(quiet_world):
    world = quiet_world
    site = world.sites[world.customer.slug]
    job = bulk.start_bulk_job(
        kind=JobKind.BULK_REGENERATE,
        actor=_actor(world),
        organisation=world.reseller,
        site_ids=[site.pk],
    )
    job = run_job_inline(job)
    finished = (job.state, job.progress_done, job.finished_at, dict(job.params))
    bulk.run_chunk(job_id=job.pk, chunk=0)
    job.refresh_from_db()
    assert (job.state, job.progress_done, job.finished_at, job.params) == finished
    assert AuditEvent.objects.filter(action="job.succeeded", object_id=str(job.pk)).count() == 1


def _actor(world, role="reseller_admin"):
    from portal.accounts.permissions import Actor

    return Actor.for_user(world.people[role])


@pytest.mark.django_db
def test_the_bulk_service_refuses_sites_the_actor_may_not_change(world):
    from portal.core.errors import ServiceError

    other = world.sites[world.other_customer.slug]
    with pytest.raises(ServiceError, match="may not change the sites of Customer Other"):
        bulk.start_bulk_job(
            kind=JobKind.BULK_REGENERATE,
            actor=_actor(world),
            organisation=world.reseller,
            site_ids=[other.pk],
        )
    assert not Job.objects.filter(kind=JobKind.BULK_REGENERATE).exists()


@pytest.mark.worker
def test_bulk_regenerate_through_a_real_worker_reaches_its_total(celery_worker_process, world):
    client_org = CustomerFactory(parent=world.reseller, name="Many Sites Ltd", slug="many-sites")
    for n in range(bulk.CHUNK_SIZE + 10):
        SiteFactory(organisation=client_org, name=f"Shop {n:03d}")
    client = client_for(world, "reseller_admin")
    response = client.post(
        f"/o/{world.reseller.slug}/sites/bulk/",
        {"action": "regenerate", "scope": "filter", "organisation": client_org.slug},
    )
    assert response.status_code == 302
    job = Job.objects.get(kind=JobKind.BULK_REGENERATE)
    seen = set()

    def finished():
        job.refresh_from_db()
        seen.add(job.progress_done)
        return job.is_finished

    wait_for(finished, timeout=180, interval=0.1, process=celery_worker_process)
    assert job.state == JobState.SUCCEEDED, job.error
    assert job.progress_done == job.progress_total == bulk.CHUNK_SIZE + 10
    assert job.result["new"] == bulk.CHUNK_SIZE + 10
    assert (
        Site.objects.filter(organisation=client_org, current_instruction_set__isnull=True).count()
        == 0
    )
    assert seen <= {0, bulk.CHUNK_SIZE, bulk.CHUNK_SIZE + 10}  # progress moves chunk by chunk
    generated = AuditEvent.objects.filter(action="instructions.generated", organisation=client_org)
    assert generated.count() == job.progress_total
    assert set(generated.values_list("source", "actor_user_id")) == {("worker", None)}
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert (
        partial.status_code == 286
        and f"{job.progress_total} of {job.progress_total} sites done".encode() in partial.content
    )


def test_a_lost_bulk_job_can_be_sent_again():
    """The sweeper re-sends queued jobs by kind (portal.jobs.services.TASK_FOR_KIND); a bulk kind
    missing there would stop the sweep for every job behind it."""
    from portal.jobs.services import TASK_FOR_KIND

    for kind in bulk.BULK_KINDS:
        assert TASK_FOR_KIND.get(kind) == "sites.tasks.run_site_bulk_job", kind
