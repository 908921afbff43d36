"""Creating and changing sites. The description is validated by ``SiteDescription``; every
problem comes back at once, keyed by field, and nothing is saved."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.description import DescriptionError, SiteDescription
from sites.models import Lifecycle, ServiceProfile, Site
from sites.models.site import Reverify
from sites.services import queue


def validate_description(data: dict, *, organisation, site: Site | None = None) -> SiteDescription:
    """The validated description, or ``ServiceError`` naming every bad field."""
    try:
        description = SiteDescription.from_dict(
            data, allow_private=settings.SITE_ALLOW_LAB_ADDRESSES
        )
    except DescriptionError as error:
        raise ServiceError(errors=error.errors) from None
    if name_taken(organisation, description.name, site=site):
        raise ServiceError("name", NAME_TAKEN)
    return description


NAME_TAKEN = "This organisation already has a site with this name."


def name_taken(organisation, name: str, *, site: Site | None = None) -> bool:
    """Whether another site of the organisation has this name (case aside); ``site`` is the one
    being edited, which may keep its own name."""
    clash = Site.objects.filter(organisation=organisation, name__iexact=name)
    if site is not None:
        clash = clash.exclude(pk=site.pk)
    return clash.exists()


def _check_reverify(value: str) -> None:
    if value not in Reverify.values:
        raise ServiceError("reverify", f"Choose one of: {', '.join(Reverify.values)}.")


def _columns(description: SiteDescription) -> dict:
    return {
        "name": description.name,
        "vendor": description.vendor,
        "description": description.to_dict(),
        "public_address": str(description.public_address) if description.public_address else None,
    }


def create_site(
    *,
    organisation,
    data: dict,
    profile: ServiceProfile | None = None,
    reverify: str = Reverify.WEEKLY,
) -> Site:
    """Create a site from its description and queue its first instructions."""
    if not organisation.is_customer:
        raise ServiceError("organisation", "Sites belong to customer organisations.")
    description = validate_description(data, organisation=organisation)
    _check_reverify(reverify)
    profile = profile or ServiceProfile.objects.default()
    with transaction.atomic():
        site = Site.objects.create(
            organisation=organisation, profile=profile, reverify=reverify, **_columns(description)
        )
        record_event(
            action="site.created",
            organisation=organisation,
            target=site,
            after={**site.description, "reverify": reverify},
        )
        queue.enqueue_after_commit(queue.REGENERATE_SITE, site.pk)
    return site


def update_site(*, site: Site, data: dict, reverify: str | None = None) -> Site:
    """Change a site's description (and how often its proof is renewed); new instructions follow
    when the description changed."""
    description = validate_description(data, organisation=site.organisation, site=site)
    if reverify is not None:
        _check_reverify(reverify)
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        if locked.lifecycle != Lifecycle.ACTIVE:  # its rules are being or were removed
            raise ServiceError("", "This site is being decommissioned or was decommissioned.")
        before = {**locked.description, "reverify": locked.reverify}
        columns = {**_columns(description), "reverify": reverify or locked.reverify}
        description_changed = columns["description"] != locked.description
        if not description_changed and columns["reverify"] == locked.reverify:
            return locked
        if columns["public_address"] != locked.public_address:
            # A proof of the old address says nothing about the new one.
            locked.public_address_changed_at = timezone.now()
        for field, value in columns.items():
            setattr(locked, field, value)
        locked.save()
        record_event(
            action="site.updated",
            organisation=locked.organisation,
            target=locked,
            before=before,
            after={**locked.description, "reverify": locked.reverify},
        )
        if description_changed:
            queue.enqueue_after_commit(queue.REGENERATE_SITE, locked.pk)
    return locked
