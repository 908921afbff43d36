"""Creating sites and opening their rollouts."""
from django.db import transaction
from django.utils import timezone

from portal.audit.services import record_event, snapshot
from portal.core.errors import ServiceError
from sites.models import Rollout, RolloutState, Site


def create_site(*, organisation, name: str, vendor: str = "") -> Site:
    if not organisation.is_customer:
        raise ServiceError("organisation", "sites belong to customer organisations")
    if Site.objects.filter(organisation=organisation, name__iexact=name).exists():
        raise ServiceError("name", "this organisation already has a site with this name")
    with transaction.atomic():
        site = Site.objects.create(organisation=organisation, name=name, vendor=vendor)
        record_event(
            action="site.created",
            organisation=organisation,
            target=site,
            after=snapshot(site, ["name", "vendor"]),
        )
    return site


def set_rollout_state(*, site: Site, state: str) -> Rollout:
    """Move the site's current rollout to ``state`` (opening one when there is none)."""
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update().filter(site=site).order_by("-created_at").first()
        if rollout is None:
            rollout = Rollout.objects.create(site=site)
        before = {"state": rollout.state}
        if rollout.state == state:
            return rollout
        now = timezone.now()
        rollout.state = state
        if state == RolloutState.IN_PROGRESS and rollout.started_at is None:
            rollout.started_at = now
        if state in (RolloutState.DONE, RolloutState.FAILED):
            rollout.started_at = rollout.started_at or now
            rollout.finished_at = now
        rollout.save()
        record_event(
            action="rollout.state_changed",
            organisation=site.organisation,
            target=rollout,
            before=before,
            after={"state": state},
        )
    return rollout
