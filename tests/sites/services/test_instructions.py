"""Instruction sets are versioned by content: same input, same version; a change, a new one."""

import json

import pytest

from portal.audit.models import AuditEvent
from sites.models import InstructionSet, RolloutState, StepState
from sites.services import rollouts
from sites.services.instructions import regenerate_site, regenerate_sites
from sites.services.sites import update_site
from tests.factories import SiteFactory, site_description

pytestmark = pytest.mark.django_db


def test_first_generation_makes_version_one_with_a_rollout():
    site = SiteFactory()
    instruction_set, is_new = regenerate_site(site_id=site.pk)
    assert is_new and instruction_set.version == 1
    assert instruction_set.rollout.state == RolloutState.NOT_STARTED
    vendors = [d["vendor"] for d in instruction_set.documents]
    assert vendors == ["fortigate", "windows"]  # the site's firewall, then its Windows host
    steps = instruction_set.rollout.steps.order_by("position")
    assert steps.count() == sum(len(d["steps"]) for d in instruction_set.documents)
    assert {r["kind"] for r in instruction_set.rules} >= {"allow_outbound", "source_nat"}
    event = AuditEvent.objects.get(action="instructions.generated")
    assert event.after["version"] == 1 and event.before is None


def test_regenerating_with_nothing_changed_keeps_the_version():
    site = SiteFactory()
    first, _ = regenerate_site(site_id=site.pk)
    again, is_new = regenerate_site(site_id=site.pk)
    assert not is_new and again.pk == first.pk
    assert InstructionSet.objects.filter(site=site).count() == 1
    assert AuditEvent.objects.filter(action="instructions.generated").count() == 1


def test_a_changed_description_makes_a_new_version_and_keeps_unchanged_steps_done():
    site = SiteFactory()
    first, _ = regenerate_site(site_id=site.pk)
    done_steps = list(first.rollout.steps.order_by("position")[:2])
    for step in done_steps:
        rollouts.mark_step(step=step, state=StepState.DONE)

    update_site(
        site=site,
        data=site_description(
            name=site.name, monitoring_enabled=True, monitoring_sources=["198.51.100.7"]
        ),
    )
    second, is_new = regenerate_site(site_id=site.pk)
    assert is_new and second.version == 2 and second.content_hash != first.content_hash
    site.refresh_from_db()
    assert site.current_instruction_set_id == second.pk
    carried = second.rollout.steps.filter(state=StepState.DONE)
    unchanged = {
        s.key
        for s in done_steps
        if second.rollout.steps.filter(key=s.key, fingerprint=s.fingerprint).exists()
    }
    assert {s.key for s in carried} == unchanged
    assert all("Carried over from version 1" in s.note for s in carried)


def test_a_profile_change_that_does_not_touch_the_site_records_the_new_revision():
    site = SiteFactory()
    first, _ = regenerate_site(site_id=site.pk)
    profile = site.profile
    profile.revision += 1
    profile.save()
    again, is_new = regenerate_site(site_id=site.pk)
    assert not is_new
    again.refresh_from_db()
    assert again.profile_revision == profile.revision


def test_steps_of_a_replaced_version_cannot_be_changed():
    site = SiteFactory()
    first, _ = regenerate_site(site_id=site.pk)
    update_site(site=site, data=site_description(name=site.name, host_address="192.168.1.11"))
    regenerate_site(site_id=site.pk)
    old_step = first.rollout.steps.first()
    from portal.core.errors import ServiceError

    with pytest.raises(ServiceError, match="replaced by a newer version"):
        rollouts.mark_step(step=old_step, state=StepState.DONE)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], RolloutState.NOT_STARTED),
        (["pending", "pending"], RolloutState.NOT_STARTED),
        (["done", "pending"], RolloutState.IN_PROGRESS),
        (["done", "skipped"], RolloutState.DONE),
        (["done", "failed", "pending"], RolloutState.FAILED),
    ],
)
def test_rollout_state_follows_its_steps(states, expected):
    assert rollouts.rollout_state_for(states) == expected


def test_a_step_change_is_one_audit_event_and_moves_the_rollout():
    site = SiteFactory()
    instruction_set, _ = regenerate_site(site_id=site.pk)
    step = instruction_set.rollout.steps.first()
    rollouts.mark_step(step=step, state=StepState.DONE, note="Added on the FortiGate")
    rollouts.mark_step(step=step, state=StepState.DONE, note="Added on the FortiGate")
    assert AuditEvent.objects.filter(action="rollout.step_changed").count() == 1
    instruction_set.rollout.refresh_from_db()
    assert instruction_set.rollout.state == RolloutState.IN_PROGRESS


def test_many_sites_at_once_give_each_the_outcome_of_one_at_a_time():
    """regenerate_sites (a profile change's chunk) = regenerate_site per site, in batches."""
    unchanged, changed, fresh = SiteFactory(), SiteFactory(), SiteFactory()
    first_unchanged, _ = regenerate_site(site_id=unchanged.pk)
    first_changed, _ = regenerate_site(site_id=changed.pk)
    rollouts.mark_step(
        step=first_changed.rollout.steps.order_by("position").first(), state=StepState.DONE
    )
    update_site(
        site=changed,
        data=site_description(
            name=changed.name, monitoring_enabled=True, monitoring_sources=["198.51.100.7"]
        ),
    )
    events_before = AuditEvent.objects.filter(action="instructions.generated").count()

    missing = max(unchanged.pk, changed.pk, fresh.pk) + 1000
    outcome = regenerate_sites(site_ids=[fresh.pk, changed.pk, unchanged.pk, missing, changed.pk])

    assert set(outcome) == {unchanged.pk, changed.pk, fresh.pk}  # a missing site is left out
    assert outcome[unchanged.pk] == (first_unchanged, False)
    second, is_new = outcome[changed.pk]
    assert is_new and second.version == 2
    assert second.rollout.steps.filter(note__startswith="Carried over from version 1").count() <= 1
    assert outcome[fresh.pk][1] and outcome[fresh.pk][0].version == 1
    assert AuditEvent.objects.filter(action="instructions.generated").count() == events_before + 2
    # Each rollout counts its steps, as one site at a time would.
    for instruction_set in (second, outcome[fresh.pk][0]):
        rollout = instruction_set.rollout
        assert rollout.steps_total == rollout.steps.count() > 0
    again = regenerate_sites(site_ids=[unchanged.pk, changed.pk, fresh.pk])
    assert not any(is_new for _, is_new in again.values())  # twice: nothing more


def test_the_instructions_name_the_probe_addresses_the_portal_is_configured_with(settings):
    """#13: the profile as the portal serves it carries PROBE_RESPONDER_HOST and
    PROBE_CHECK_SOURCE; a new address is a new version whose steps name it."""
    settings.PROBE_RESPONDER_HOST = "203.0.113.10"
    settings.PROBE_CHECK_SOURCE = ""
    site = SiteFactory(
        description=site_description(
            monitoring_enabled=True, monitoring_sources=["198.51.100.7/32"]
        )
    )
    first, _ = regenerate_site(site_id=site.pk)
    text = json.dumps(first.documents)
    assert "probe responder 203.0.113.10" in text and "198.51.100.200" not in text
    settings.PROBE_CHECK_SOURCE = "198.51.100.200"
    second, is_new = regenerate_site(site_id=site.pk)
    assert is_new and second.version == first.version + 1
    assert second.profile_data["probe_check_source"] == "198.51.100.200"
    (inbound,) = [
        r
        for r in second.rules
        if r["kind"] == "allow_inbound" and r["port"] == 4403 and r["protocol"] == "tcp"
    ]
    assert inbound["allowed_sources"] == ["198.51.100.7/32", "198.51.100.200/32"]
    assert "The portal connects from 198.51.100.200" in json.dumps(second.documents)
