"""The end of a decommissioning: once the rollout of the removal plan of every rule is done, the
site is marked decommissioned (kept, not deleted: its audit trail and versions refer to it).

Called by ``sites.services.rollouts.refresh_rollout_state`` as a rollout finishes, inside its
transaction; only models and the audit trail here, so the rollouts module can call it.
"""

from django.utils import timezone

from portal.audit.services import record_event
from sites.models import InstructionSet, Lifecycle, PlanKind, Rollout, Site


def rollout_finished(rollout: Rollout) -> None:
    """Mark the site decommissioned when ``rollout`` (just done) removed every rule of it."""
    plan = (
        InstructionSet.objects.filter(pk=rollout.instruction_set_id)
        .values_list("kind", "removal_scope")
        .first()
    )
    if plan != (PlanKind.REMOVAL, "all"):
        return
    site = Site.objects.select_related("organisation").get(pk=rollout.site_id)
    now = timezone.now()
    marked = Site.objects.filter(
        pk=site.pk,
        lifecycle=Lifecycle.DECOMMISSIONING,
        current_instruction_set_id=rollout.instruction_set_id,
    ).update(lifecycle=Lifecycle.DECOMMISSIONED, decommissioned_at=now)
    if marked:
        record_event(
            action="site.decommissioned",
            organisation=site.organisation,
            target=site,
            before={"lifecycle": Lifecycle.DECOMMISSIONING},
            after={"lifecycle": Lifecycle.DECOMMISSIONED, "rollout": rollout.pk},
        )
