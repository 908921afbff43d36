"""The site dashboard (/o/<slug>/sites/): filters, search, sorting, pages, a fixed number of queries,
tenancy (its bulk actions: tests/sites/services/test_bulk.py)."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.jobs.models import Job, JobKind
from sites.models import ProbeRun, ProbeRunState, Site, StepState
from sites.selectors import proof_flag
from sites.services import probes
from sites.services.instructions import regenerate_site
from sites.services.rollouts import mark_step
from sites.services.sites import update_site
from tests.factories import ProbeRunFactory, SiteFactory, site_description


def client_for(world, role) -> Client:
    client = Client()
    client.force_login(world.people[role])
    return client


def dashboard(client, page_of, /, **params):
    return client.get(f"/o/{page_of.slug}/sites/", params)


def names(response) -> list[str]:
    return [row.name for row in response.context["rows"]]


def probe(site, state, *, days_ago=0.0, open_minutes=None):
    """A settled outbound verify run that ended ``days_ago`` (or an open one)."""
    if open_minutes is not None:
        return ProbeRunFactory(
            site=site, state=state, expires_at=timezone.now() + timedelta(minutes=open_minutes)
        )
    finished = timezone.now() - timedelta(days=days_ago)
    return ProbeRunFactory(site=site, state=state, finished_at=finished, created_at=finished)


def described(organisation, name, **kwargs) -> Site:
    site = SiteFactory(organisation=organisation, name=name, **kwargs)
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


# --- Filters, search, sorting, pages ------------------------------------------------------------


@pytest.mark.django_db
def test_filters_by_organisation_vendor_rollout_and_search(quiet_world):
    world = quiet_world
    alpha = described(world.customer, "Alpha office", vendor="iptables")
    described(world.customer, "Beta office")
    SiteFactory(organisation=world.sibling_customer, name="Gamma depot")  # no instructions yet
    step = alpha.current_instruction_set.rollout.steps.order_by("position").first()
    mark_step(step=step, state=StepState.DONE)
    client = client_for(world, "reseller_admin")

    everything = dashboard(client, world.reseller)
    assert everything.status_code == 200
    assert names(everything) == [  # organisation, then name
        "Alpha office",
        "Beta office",
        "Customer One HQ",
        "Customer Sibling HQ",
        "Gamma depot",
    ]
    assert names(dashboard(client, world.reseller, organisation=world.sibling_customer.slug)) == [
        "Customer Sibling HQ",
        "Gamma depot",
    ]
    assert names(dashboard(client, world.reseller, vendor="iptables")) == ["Alpha office"]
    assert names(dashboard(client, world.reseller, q="  OFFICE ")) == [
        "Alpha office",
        "Beta office",
    ]
    assert names(dashboard(client, world.reseller, rollout="none")) == ["Gamma depot"]
    assert names(dashboard(client, world.reseller, rollout="in_progress")) == ["Alpha office"]
    assert names(dashboard(client, world.reseller, rollout="not_started", q="HQ")) == [
        "Customer One HQ",
        "Customer Sibling HQ",
    ]
    row = dashboard(client, world.reseller, vendor="iptables").context["rows"][0]
    total = alpha.current_instruction_set.rollout.steps.count()
    assert row.steps_total == total and row.steps_label.startswith(
        f"1 of {total} steps · In progress"
    )
    assert row.progress == str(100 // total)


@pytest.mark.django_db
def test_the_flag_filter_agrees_with_proof_flag(quiet_world):
    world = quiet_world
    now = timezone.now()
    sites = {
        "fresh": described(world.customer, "Fresh", reverify="weekly"),
        "stale_period": described(world.customer, "Stale by period", reverify="daily"),
        "stale_address": described(world.customer, "Stale by address"),
        "failing": described(world.customer, "Failing"),
        "unproven": described(world.customer, "Unproven"),
        "waiting": described(world.sibling_customer, "Waiting"),
        "never_reverify": described(
            world.sibling_customer, "Old but never re-verified", reverify="off"
        ),
    }
    probe(sites["fresh"], ProbeRunState.PROVEN, days_ago=2)
    probe(sites["stale_period"], ProbeRunState.PROVEN, days_ago=1.5)
    probe(sites["stale_address"], ProbeRunState.PROVEN, days_ago=1)
    Site.objects.filter(pk=sites["stale_address"].pk).update(
        public_address_changed_at=now - timedelta(hours=2)
    )
    probe(sites["failing"], ProbeRunState.PROVEN, days_ago=3)
    probe(sites["failing"], ProbeRunState.FAILED, days_ago=1)
    probe(sites["waiting"], ProbeRunState.PROVEN, days_ago=20)
    probe(sites["waiting"], ProbeRunState.WAITING, open_minutes=20)
    probe(sites["never_reverify"], ProbeRunState.PROVEN, days_ago=300)
    probe(sites["unproven"], ProbeRunState.EXPIRED, days_ago=1)
    client = client_for(world, "reseller_admin")

    truth = {
        s.name: proof_flag(s, now=now)
        for s in Site.objects.filter(organisation__parent=world.reseller)
    }
    assert truth["Fresh"] == "" and truth["Old but never re-verified"] == ""
    assert truth["Stale by period"] == truth["Stale by address"] == truth["Waiting"] == "stale"
    assert truth["Failing"] == "failing" and truth["Unproven"] == "unproven"
    for flag, expected in (
        ("failing", "failing"),
        ("stale", "stale"),
        ("unproven", "unproven"),
        ("fresh", ""),
    ):
        listed = set(names(dashboard(client, world.reseller, flag=flag)))
        assert listed == {name for name, f in truth.items() if f == expected}, flag
    assert names(dashboard(client, world.reseller, flag="waiting")) == ["Waiting"]
    attention = set(names(dashboard(client, world.reseller, flag="attention")))
    # Stuck sites only: "never proven" alone is a rollout in progress, not a call to act (#13).
    assert attention == {name for name, f in truth.items() if f in ("failing", "stale")} - {
        "Waiting"
    }
    # What each row shows is the same flag, plus the open run for the waiting one.
    rows = {row.name: row for row in dashboard(client, world.reseller).context["rows"]}
    assert {name: row.flag for name, row in rows.items()} == truth
    assert rows["Waiting"].waiting_url.endswith(
        f"/probes/{ProbeRun.objects.get(state='waiting').pk}/"
    )
    assert rows["Failing"].probe_state == "failed" and rows["Failing"].probe_age == "1 day ago"
    assert rows["Unproven"].probe_state == "expired"


@pytest.mark.django_db
def test_sorting_by_whitelisted_columns_only(quiet_world):
    world = quiet_world
    zulu, alpha = described(world.customer, "Zulu"), described(world.customer, "alpha")
    mark_step(step=zulu.current_instruction_set.rollout.steps.first(), state=StepState.DONE)
    probe(alpha, ProbeRunState.PROVEN, days_ago=1)
    probe(zulu, ProbeRunState.PROVEN, days_ago=3)
    client = client_for(world, "customer_admin")

    assert names(dashboard(client, world.customer, sort="name")) == [
        "alpha",
        "Customer One HQ",
        "Zulu",
    ] or names(dashboard(client, world.customer, sort="name")) == [
        "Customer One HQ",
        "Zulu",
        "alpha",
    ]
    by_name = names(dashboard(client, world.customer, sort="name"))
    assert names(dashboard(client, world.customer, sort="-name")) == by_name[::-1]
    assert names(dashboard(client, world.customer, sort="-rollout"))[0] == "Zulu"
    # Never-probed sites come last in both directions.
    assert names(dashboard(client, world.customer, sort="-probe")) == [
        "alpha",
        "Zulu",
        "Customer One HQ",
    ]
    assert names(dashboard(client, world.customer, sort="probe")) == [
        "Zulu",
        "alpha",
        "Customer One HQ",
    ]
    page = dashboard(client, world.customer, sort="-probe")
    assert page.context["columns"]["probe"]["state"] == "descending"
    assert "sort=probe" in page.context["columns"]["probe"]["query"]  # the heading flips it

    refused = dashboard(client, world.customer, sort="description")  # not a column
    assert refused.status_code == 200 and names(refused) == []
    assert "sort" in refused.context["filterset"].errors


@pytest.mark.django_db
def test_pages_of_fifty(quiet_world):
    world = quiet_world
    Site.objects.bulk_create(
        SiteFactory.build(organisation=world.sibling_customer, name=f"Branch {n:02d}")
        for n in range(60)
    )
    client = client_for(world, "reseller_admin")
    first = dashboard(client, world.reseller, organisation=world.sibling_customer.slug)
    assert len(names(first)) == 50 and first.context["page_obj"].count == 61
    second = dashboard(client, world.reseller, organisation=world.sibling_customer.slug, page=2)
    assert names(second) == [f"Branch {n:02d}" for n in range(50, 60)] + ["Customer Sibling HQ"]
    body = first.content.decode()
    assert (
        "page=2" in body and f"organisation={world.sibling_customer.slug}" in body
    )  # links keep the filter
    assert names(
        dashboard(client, world.reseller, organisation=world.sibling_customer.slug, page=99)
    ) == names(second)
    assert dashboard(client, world.reseller, page="x").status_code == 200


# --- The summaries the dashboard reads: stored where they are written ----------------------------


@pytest.mark.django_db
def test_the_stored_rollout_progress_follows_step_changes_probes_and_new_versions(quiet_world):
    world = quiet_world
    site = described(world.customer, "Progress office")
    client = client_for(world, "reseller_admin")

    def stored(rollout):
        rollout.refresh_from_db()
        finished = rollout.steps.filter(state__in=[StepState.DONE, StepState.SKIPPED]).count()
        assert (rollout.steps_total, rollout.steps_finished) == (rollout.steps.count(), finished)
        # The site's copy, which the dashboard shows and sorts by (tests/sites/services/
        # test_site_progress.py follows it through every other kind of change).
        site.refresh_from_db()
        copy = (site.rollout_steps_total, site.rollout_steps_finished)
        assert copy == (rollout.steps_total, rollout.steps_finished)
        return rollout.steps_total, rollout.steps_finished, rollout.state

    def shown():
        return dashboard(client, world.reseller, q="Progress").context["rows"][0].steps_label

    rollout = site.current_instruction_set.rollout
    steps = list(rollout.steps.order_by("position"))
    total = len(steps)
    assert stored(rollout) == (total, 0, "not_started")
    mark_step(step=steps[0], state=StepState.DONE)
    mark_step(step=steps[1], state=StepState.SKIPPED)
    mark_step(step=steps[2], state=StepState.FAILED)  # failed is not finished
    assert stored(rollout) == (total, 2, "failed")
    mark_step(step=steps[2], state=StepState.PENDING)
    mark_step(step=steps[0], state=StepState.PENDING)  # undone
    assert stored(rollout) == (total, 1, "in_progress")
    assert shown() == f"1 of {total} steps · In progress"

    # A probe proving the outbound path completes the verification steps it covers.
    run = probes.start_probe_run(site=site, direction="outbound")
    probes.record_observations(
        [
            probes.Seen(
                run_id=run.pk,
                direction="outbound",
                port=e["port"],
                protocol=e["protocol"],
                observed_ip="192.0.2.1",
                observed_port=50000,
                outcome="ok",
                received_at=time.time(),
            )
            for e in run.expected
        ]
    )
    _, by_probe, _ = stored(rollout)
    assert by_probe > 1 and shown() == f"{by_probe} of {total} steps · In progress"

    # A new version opens a new rollout: its own total, and the states carried over counted.
    update_site(
        site=site,
        data=site_description(
            name=site.name, monitoring_enabled=True, monitoring_sources=["198.51.100.7"]
        ),
    )
    new_set, is_new = regenerate_site(site_id=site.pk)
    assert is_new
    new_total, carried, _ = stored(new_set.rollout)
    assert new_total != total and carried >= 1
    assert shown().startswith(f"{carried} of {new_total} steps")
    described(world.customer, "Untouched office")
    assert names(dashboard(client, world.reseller, sort="-rollout"))[0] == "Progress office"


def _seed_sites(world, count: int) -> None:
    """Sites in both of the reseller's clients, with rollouts and probe history like real ones."""
    existing = Site.objects.filter(organisation__parent=world.reseller).count()
    for n in range(existing, count):
        organisation = world.customer if n % 2 else world.sibling_customer
        site = SiteFactory(organisation=organisation, name=f"Seeded {n:03d}")
        if n % 3:
            regenerate_site(site_id=site.pk)
        if n % 2 == 0:
            probe(site, ProbeRunState.PROVEN, days_ago=(n * 7) % 20)
        if n % 5 == 0:
            probe(site, ProbeRunState.FAILED, days_ago=0.5)


QUERIES = [
    {},
    {"flag": "attention", "sort": "-probe"},
    {"flag": "stale", "sort": "rollout"},
    {"rollout": "not_started", "vendor": "fortigate", "q": "seeded"},
    {"organisation": "customer-one", "page": "2"},
]


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_sites(world, django_assert_max_num_queries):
    client = client_for(world, "reseller_admin")
    _seed_sites(world, 5)
    at_five = []
    for params in QUERIES:
        dashboard(client, world.reseller, **params)  # warm the session
        with CaptureQueriesContext(connection) as captured:
            response = dashboard(client, world.reseller, **params)
        assert response.status_code == 200 and response.context["rows"], params
        at_five.append(len(captured))
    _seed_sites(world, 120)  # 60 per client: more than a page of each
    for params, count in zip(QUERIES, at_five, strict=True):
        with django_assert_max_num_queries(count):
            response = dashboard(client, world.reseller, **params)
        assert response.status_code == 200 and response.context["rows"], params
        with django_assert_max_num_queries(count):
            client.get(f"/o/{world.reseller.slug}/sites/", params, headers={"HX-Request": "true"})
    assert max(at_five) <= 12


# --- htmx ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_htmx_request_gets_the_table_alone(world):
    client = client_for(world, "reseller_admin")
    page = dashboard(client, world.reseller, vendor="fortigate")
    assert "<html" in page.content.decode() and "HX-Request" in page["Vary"]
    partial = client.get(
        f"/o/{world.reseller.slug}/sites/", {"vendor": "fortigate"}, headers={"HX-Request": "true"}
    )
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body and 'id="site-table"' in body
    assert "HX-Request" in partial["Vary"]
    assert 'hx-swap-oob="true"' in body  # the filter form's sort follows the table
    assert (
        'hx-push-url="true"' in body
        and 'href="/o/reseller-one/sites/?vendor=fortigate&amp;sort=name"' in body
    )
    restore = client.get(
        f"/o/{world.reseller.slug}/sites/",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()  # back button after a cache miss: the whole page


# --- Tenancy ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_resellers_dashboard_never_lists_another_resellers_clients(world):
    other_site = world.sites[world.other_customer.slug]
    client = client_for(world, "reseller_admin")
    listed = set(names(dashboard(client, world.reseller)))
    assert listed == {"Customer One HQ", "Customer Sibling HQ"}
    for flag in ("attention", "waiting", "unproven"):
        assert other_site.name not in names(dashboard(client, world.reseller, flag=flag))
    # Another reseller's client is not a valid choice: nothing is listed, and the error says so.
    refused = dashboard(client, world.reseller, organisation=world.other_customer.slug)
    assert names(refused) == [] and "organisation" in refused.context["filterset"].errors
    assert world.other_customer.name not in refused.content.decode()
    assert dashboard(client, world.other_reseller).status_code == 404
    # Naming the other tenant's site in a bulk action or an export selects nothing.
    bulk_post = client.post(
        f"/o/{world.reseller.slug}/sites/bulk/", {"action": "regenerate", "site": [other_site.pk]}
    )
    assert (
        bulk_post.status_code == 422
        and not Job.objects.filter(kind=JobKind.BULK_REGENERATE).exists()
    )
    export = client.get(
        f"/o/{world.reseller.slug}/sites/export/", {"format": "csv", "site": other_site.pk}
    )
    assert other_site.name not in b"".join(export.streaming_content).decode()
    # A customer sees its own sites only, without an organisation column or filter.
    customer_page = dashboard(client_for(world, "customer_viewer"), world.customer)
    assert (
        names(customer_page) == ["Customer One HQ"]
        and not customer_page.context["show_organisation"]
    )


@pytest.mark.django_db
def test_the_provider_sees_every_customer(world):
    listed = set(names(dashboard(client_for(world, "support"), world.provider)))
    assert listed == {site.name for site in world.sites.values()}
