"""One way to mark a step: a person and a probe's proof both go through ``mark_step``, with the
same refusal of replaced instructions, the same audit event and the same rollout refresh."""

import time

import pytest

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.models import Rollout, RolloutState, StepState
from sites.services import probes
from sites.services.instructions import regenerate_site
from sites.services.rollouts import StepReplaced, mark_step
from sites.services.sites import update_site
from tests.factories import SiteFactory, UserFactory, site_description

pytestmark = pytest.mark.django_db

OUTBOUND_VERIFY = "Prove the backup connection gets out"


def prove(run):
    """``run`` proven on every port it expects (as the responder would report it)."""
    probes.record_observations(
        [
            probes.Seen(
                run_id=run.pk,
                direction="outbound",
                port=e["port"],
                protocol=e["protocol"],
                observed_ip="192.0.2.1",
                observed_port=40000,
                outcome="ok",
                received_at=time.time(),
            )
            for e in run.expected
        ]
    )
    run.refresh_from_db()
    return run


def test_a_person_marks_a_step_with_one_event_and_the_rollout_follows():
    site = SiteFactory()
    instruction_set, _ = regenerate_site(site_id=site.pk)
    person = UserFactory()
    step = instruction_set.rollout.steps.order_by("position").first()
    marked = mark_step(step=step, state=StepState.FAILED, note="No such menu", by=person)
    assert (marked.state, marked.note, marked.changed_by) == (
        StepState.FAILED,
        "No such menu",
        person,
    )
    assert Rollout.objects.get(pk=instruction_set.rollout.pk).state == RolloutState.FAILED
    event = AuditEvent.objects.get(action="rollout.step_changed")
    assert event.before == {"state": StepState.PENDING, "note": ""}
    assert event.after == {"state": StepState.FAILED, "note": "No such menu"}
    # The same state and note again: nothing to record.
    mark_step(step=step, state=StepState.FAILED, note="No such menu", by=person)
    assert AuditEvent.objects.filter(action="rollout.step_changed").count() == 1


def test_a_bad_state_or_a_long_note_is_refused_by_field():
    site = SiteFactory()
    instruction_set, _ = regenerate_site(site_id=site.pk)
    step = instruction_set.rollout.steps.first()
    with pytest.raises(ServiceError) as bad_state:
        mark_step(step=step, state="nearly", by=None)
    assert bad_state.value.field == "state"
    with pytest.raises(ServiceError) as long_note:
        mark_step(step=step, state=StepState.DONE, note="x" * 2001)
    assert long_note.value.field == "note"


def test_a_probe_marks_its_verify_step_as_a_person_would_but_as_nobody():
    """The probe's event has the person's shape (before: state and note); the step no longer
    names the person who marked it before the proof (it used to keep them)."""
    site = SiteFactory()
    instruction_set, _ = regenerate_site(site_id=site.pk)
    verify = instruction_set.rollout.steps.get(title=OUTBOUND_VERIFY)
    person = UserFactory()
    mark_step(step=verify, state=StepState.FAILED, note="Timed out", by=person)

    site.refresh_from_db()
    run = prove(probes.start_probe_run(site=site, direction="outbound"))
    verify.refresh_from_db()
    assert verify.state == StepState.DONE and verify.note == f"Proven by probe run #{run.pk}."
    assert verify.changed_by is None
    event = AuditEvent.objects.filter(action="rollout.step_changed").latest("pk")
    assert event.before == {"state": StepState.FAILED, "note": "Timed out"}
    assert event.after == {"state": StepState.DONE, "note": verify.note}
    rollout = Rollout.objects.get(pk=verify.rollout_id)
    assert rollout.state == RolloutState.IN_PROGRESS and rollout.steps_finished == 1


def test_replaced_instructions_are_refused_to_a_person_and_ignored_for_a_probe():
    site = SiteFactory()
    first, _ = regenerate_site(site_id=site.pk)
    old_verify = first.rollout.steps.get(title=OUTBOUND_VERIFY)
    site.refresh_from_db()
    run = probes.start_probe_run(site=site, direction="outbound")  # of version 1
    update_site(
        site=site,
        data=site_description(
            name=site.name,
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.7"],
        ),
    )
    second, is_new = regenerate_site(site_id=site.pk)
    assert is_new

    with pytest.raises(StepReplaced):
        mark_step(step=old_verify, state=StepState.DONE, by=UserFactory())

    prove(run)
    old_verify.refresh_from_db()
    assert run.state == "proven" and old_verify.state == StepState.PENDING
    assert second.rollout.steps.get(title=OUTBOUND_VERIFY).state == StepState.PENDING
    assert not AuditEvent.objects.filter(action="rollout.step_changed").exists()
