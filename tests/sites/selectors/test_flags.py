"""The dashboard's flags say who is stuck and never contradict each other (#13 points 2 and 3),
and rows whose instructions are being generated follow them (#13 point 4, dashboard half)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from sites.models import InstructionSet, ProbeRunState, Rollout, RolloutStep, Site
from sites.selectors.proof import latest_proof_warning
from sites.services import probes
from sites.services.instructions import regenerate_site
from tests.factories import SiteFactory
from tests.sites.selectors.test_dashboard import client_for, dashboard, described, names, probe


def observe(run, *, source: str):
    """The responder saw every port the run expects, from ``source``; the run settles."""
    probes.record_observations(
        [
            probes.Seen(
                run_id=run.pk,
                direction=run.direction,
                port=e["port"],
                protocol=e["protocol"],
                observed_ip=source,
                observed_port=50000,
                outcome="ok",
                received_at=time.time(),
            )
            for e in run.expected
        ]
    )
    run.refresh_from_db()
    return run


def rows_of(client, world, **params) -> dict:
    return {row.name: row for row in dashboard(client, world.reseller, **params).context["rows"]}


def age(site: Site, days: float) -> None:
    """The site's instructions (and rollout) were made ``days`` ago, no step marked since."""
    then = timezone.now() - timedelta(days=days)
    InstructionSet.objects.filter(pk=site.current_instruction_set_id).update(created_at=then)
    Rollout.objects.filter(instruction_set_id=site.current_instruction_set_id).update(
        created_at=then
    )


@pytest.mark.django_db
def test_needs_attention_is_who_is_stuck_not_every_site_being_rolled_out(quiet_world, settings):
    world, settings.ROLLOUT_STALLED_DAYS = quiet_world, 7
    stuck, moving, failing = (
        described(world.customer, "Stuck"),
        described(world.customer, "Moving"),
        described(world.customer, "Failing"),
    )
    age(stuck, 10)
    age(moving, 10)
    step = RolloutStep.objects.filter(rollout__instruction_set=moving.current_instruction_set)
    step.filter(position=1).update(state="done", changed_at=timezone.now() - timedelta(days=2))
    probe(failing, ProbeRunState.FAILED, days_ago=1)
    client = client_for(world, "reseller_admin")

    assert set(names(dashboard(client, world.reseller, flag="stalled"))) == {"Stuck"}
    # Never proven alone is not stuck: "Moving" and the new HQ sites are being rolled out.
    assert set(names(dashboard(client, world.reseller, flag="attention"))) == {"Stuck", "Failing"}
    unproven = set(names(dashboard(client, world.reseller, flag="unproven")))
    assert {"Stuck", "Moving"} <= unproven and "Failing" not in unproven

    rows = rows_of(client, world)
    assert rows["Stuck"].stalled and rows["Stuck"].days_in_state == "10 days"
    assert not rows["Moving"].stalled and rows["Moving"].days_in_state == "2 days"
    assert rows["Failing"].flag_label == "Proof failing"
    page = dashboard(client, world.reseller).content.decode()
    assert "In this state" in page and "Rollout stalled" in page
    assert "Rollout stalled for more than 7 days" in page  # the filter's option
    # The headline counts follow the same flags, each a link to its filter.
    assert "<strong>2</strong> Needs attention" in page
    assert "<strong>1</strong> Proof failing" in page and "?flag=stalled" in page


@pytest.mark.django_db
def test_a_settled_proof_closes_older_runs_of_the_same_check(quiet_world):
    world = quiet_world
    site = described(world.customer, "Clicked twice")
    Site.objects.filter(pk=site.pk).update(public_address="203.0.113.9")
    first = probes.start_probe_run(site=site, direction="outbound")
    second = probes.start_probe_run(site=site, direction="outbound")
    observe(second, source="203.0.113.9")
    first.refresh_from_db()
    assert second.state == ProbeRunState.PROVEN
    assert first.state == ProbeRunState.EXPIRED and first.outcome["superseded_by"] == second.pk
    assert AuditEvent.objects.filter(action="probe.superseded", object_id=str(first.pk)).exists()

    row = rows_of(client_for(world, "reseller_admin"), world)["Clicked twice"]
    assert row.flag == "" and row.waiting_url == ""


@pytest.mark.django_db
def test_waiting_on_customer_only_while_no_newer_proof_settled(quiet_world):
    world = quiet_world
    site = described(world.customer, "Proven first")
    older = probes.start_probe_run(site=site, direction="outbound")
    newer = probes.start_probe_run(site=site, direction="outbound")
    observe(older, source="192.0.2.1")  # the customer used the first token
    newer.refresh_from_db()
    assert newer.state == ProbeRunState.WAITING  # a newer request is not closed by an older proof
    client = client_for(world, "reseller_admin")
    row = rows_of(client, world)["Proven first"]
    assert row.waiting_url == "" and row.flag in ("", "warning")
    assert "Proven first" not in names(dashboard(client, world.reseller, flag="waiting"))


@pytest.mark.django_db
def test_a_proof_from_another_address_is_proven_with_a_warning(quiet_world):
    world = quiet_world
    site = described(world.customer, "Behind NAT")
    Site.objects.filter(pk=site.pk).update(public_address="203.0.113.9")
    site.refresh_from_db()
    observe(probes.start_probe_run(site=site, direction="outbound"), source="198.51.100.7")
    client = client_for(world, "reseller_admin")
    row = rows_of(client, world)["Behind NAT"]
    assert row.flag == "warning" and row.flag_label == "Proven with a warning"
    assert "198.51.100.7" in row.warning and "203.0.113.9" in row.warning
    assert latest_proof_warning(site) == row.warning  # what the site page reads
    page = dashboard(client, world.reseller).content.decode()
    assert 'class="state proof-warning"' in page and "not from the site&#x27;s public" in page
    # The site page says the same, in the probe panel the proof request's mail links to (#probe).
    site_page = client.get(f"/o/{world.customer.slug}/sites/{site.pk}/").content.decode()
    assert 'id="probe"' in site_page and "Proven with a warning" in site_page
    assert "198.51.100.7" in site_page


@pytest.mark.django_db
def test_rows_being_prepared_poll_until_their_instructions_arrive(quiet_world):
    world = quiet_world
    site = SiteFactory(organisation=world.customer, name="Just imported")  # no instructions yet
    client = client_for(world, "reseller_admin")
    page = dashboard(client, world.reseller).content.decode()
    assert f'hx-get="/o/{world.reseller.slug}/sites/?row={site.pk}"' in page
    assert page.count('hx-trigger="every 2s"') == 1  # only the row being prepared polls
    assert "Preparing instructions" in page

    poll = {"row": site.pk}
    first = client.get(f"/o/{world.reseller.slug}/sites/", poll, headers={"HX-Request": "true"})
    assert first.status_code == 200 and b"Preparing instructions" in first.content
    assert first.content.lstrip().startswith(b"<tr")

    regenerate_site(site_id=site.pk)  # the worker's turn
    done = client.get(f"/o/{world.reseller.slug}/sites/", poll, headers={"HX-Request": "true"})
    assert done.status_code == 286 and b"steps" in done.content
    assert b"hx-trigger" not in done.content

    other = client_for(world, "customer_admin")  # another scope: nothing to poll, stop
    elsewhere = other.get(
        f"/o/{world.sibling_customer.slug}/sites/", poll, headers={"HX-Request": "true"}
    )
    assert elsewhere.status_code in (286, 403, 404)
