"""Which text the customer followed: marking done a step the rollout shows adjusted to a
configuration check records that check on the version (``InstructionSet.applied_check``), and
the plans made from that version follow it: a decommission removes the rules copied above the
customer's deny and never deletes objects that were never created."""

from __future__ import annotations

import pytest

from portal.audit.models import AuditEvent
from sites.models import PlanKind, Site, StepState
from sites.services import analysis as service
from sites.services.instructions import regenerate_site
from sites.services.lifecycle import decommission_site
from sites.services.rollouts import mark_step
from tests.factories import SiteFactory, site_description
from tests.sites.analyzer.test_adjusted import FORTIGATE_CUSTOMER, IPTABLES_MANGLE_DROP
from tests.sites.services.test_analysis import iptables_site

pytestmark = pytest.mark.django_db


def check(site: Site, vendor: str, config: str):
    analysis = service.request_analysis(site=site, vendor=vendor, config=config)
    return service.run_analysis(analysis_id=analysis.pk)


def steps(site: Site):
    site.refresh_from_db()
    return list(site.current_instruction_set.rollout.steps.order_by("position"))


def plan_text(instruction_set) -> str:
    return "\n".join(s.config for d in instruction_set.rendered for s in d.steps)


def fortigate_site(organisation) -> Site:
    description = site_description(
        vendor="fortigate",
        inside_interface="internal",
        outside_interface="wan1",
        monitoring_enabled=False,
        monitoring_sources=[],
    )
    site = SiteFactory(organisation=organisation, vendor="fortigate", description=description)
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def test_marking_a_step_shown_adjusted_records_the_check_and_decommission_removes_the_copies(
    world,
):
    site = iptables_site(world.customer)
    analysis = check(site, "iptables", IPTABLES_MANGLE_DROP)
    (adjusted,) = analysis.details["adjusted_steps"]
    rollout_steps = steps(site)
    plain = [s for s in rollout_steps if s.number != adjusted["number"]]
    shown_adjusted = next(s for s in rollout_steps if s.number == adjusted["number"])

    # A step shown with its plain text: nothing recorded.
    mark_step(step=plain[0], state=StepState.DONE)
    site.refresh_from_db()
    assert site.current_instruction_set.applied_check == {}

    mark_step(step=shown_adjusted, state=StepState.DONE, by=world.people["customer_admin"])
    site.refresh_from_db()
    recorded = site.current_instruction_set.applied_check
    assert recorded == analysis.details["adjusted_from"]
    assert (recorded["vendor"], recorded["check"]) == ("iptables", analysis.pk)
    assert [d["table"] for d in recorded["shadowing"]] == ["mangle"]
    event = AuditEvent.objects.filter(action="rollout.step_changed").latest("id")
    assert event.after["adjusted_by_check"] == analysis.pk

    for step in steps(site):
        mark_step(step=step, state=StepState.DONE)
    removal = decommission_site(site=site, reason="Office closed")
    assert removal.kind == PlanKind.REMOVAL
    assert removal.applied_check == recorded  # a plan from this version knows too
    text = plan_text(removal)
    mangle = [
        line
        for block in text.split("*mangle\n")[1:]
        for line in block.split("COMMIT")[0].splitlines()
    ]
    assert len(mangle) == 2 and all(line.startswith("-D FORWARD ") for line in mangle)
    assert any("--dport 4401" in line for line in mangle)


def test_a_version_applied_plain_plans_as_before(world):
    """Checked, but every step marked done before the check's advice was followed: the
    decommission removes only what the plain text created."""
    site = iptables_site(world.customer)
    for step in steps(site):
        mark_step(step=step, state=StepState.DONE)
    check(site, "iptables", IPTABLES_MANGLE_DROP)  # the steps are done: nothing shown adjusted
    site.refresh_from_db()
    assert site.current_instruction_set.applied_check == {}
    assert "*mangle" not in plan_text(decommission_site(site=site))


def test_after_reusing_objects_a_change_keeps_them_and_decommission_never_deletes_them(world):
    site = fortigate_site(world.customer)
    analysis = check(site, "fortigate", FORTIGATE_CUSTOMER)
    assert analysis.details["adjusted_steps"]
    for step in steps(site):
        mark_step(step=step, state=StepState.DONE)
    site.refresh_from_db()
    applied = site.current_instruction_set
    assert applied.applied_check["check"] == analysis.pk

    # A change (the site renamed: every marker changes) is planned from the adjusted items.
    Site.objects.filter(pk=site.pk).update(
        description={**site.description, "name": "Renamed branch"}
    )
    change, _ = regenerate_site(site_id=site.pk)
    assert change.kind == PlanKind.CHANGE and change.applied_check == applied.applied_check
    changed = plan_text(change)
    assert '"LAN_BACKUP"' in changed  # the new policy names the customer's object
    assert 'edit "obm-host"' not in changed and 'delete "LAN_BACKUP"' not in changed

    for step in steps(site):
        mark_step(step=step, state=StepState.DONE)
    removal = plan_text(decommission_site(site=site))
    assert "delete <ID of obm-backup-out>" in removal
    for never_made in ('delete "obm-host"', 'delete "obm-dc"', 'delete "obm-tcp-4401"'):
        assert never_made not in removal
    for theirs in ("LAN_BACKUP", "SecuriData-DC", "Backup-4401"):
        assert theirs not in removal
