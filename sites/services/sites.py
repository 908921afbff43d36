"""Creating and changing sites. The description is validated by ``SiteDescription``; every
problem comes back at once, keyed by field, and nothing is saved."""
from django.db import transaction

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.description import DescriptionError, SiteDescription
from sites.models import ServiceProfile, Site


def validate_description(data: dict, *, organisation, site: Site | None = None) -> SiteDescription:
    """The validated description, or ``ServiceError`` naming every bad field."""
    try:
        description = SiteDescription.from_dict(data)
    except DescriptionError as error:
        raise ServiceError(errors=error.errors) from None
    clash = Site.objects.filter(organisation=organisation, name__iexact=description.name)
    if site is not None:
        clash = clash.exclude(pk=site.pk)
    if clash.exists():
        raise ServiceError("name", "This organisation already has a site with this name.")
    return description


def _columns(description: SiteDescription) -> dict:
    return {
        "name": description.name,
        "vendor": description.vendor,
        "description": description.to_dict(),
        "public_address": str(description.public_address) if description.public_address else None,
    }


def create_site(*, organisation, data: dict, profile: ServiceProfile | None = None) -> Site:
    """Create a site from its description and queue its first instructions."""
    from sites.tasks import regenerate_site_instructions

    if not organisation.is_customer:
        raise ServiceError("organisation", "Sites belong to customer organisations.")
    description = validate_description(data, organisation=organisation)
    profile = profile or ServiceProfile.objects.default()
    with transaction.atomic():
        site = Site.objects.create(organisation=organisation, profile=profile, **_columns(description))
        record_event(
            action="site.created", organisation=organisation, target=site, after=site.description
        )
        transaction.on_commit(lambda: regenerate_site_instructions.delay(site.pk))
    return site


def update_site(*, site: Site, data: dict) -> Site:
    """Change a site's description; new instructions follow when anything changed."""
    from sites.tasks import regenerate_site_instructions

    description = validate_description(data, organisation=site.organisation, site=site)
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        before = locked.description
        columns = _columns(description)
        if columns["description"] == before:
            return locked
        for field, value in columns.items():
            setattr(locked, field, value)
        locked.save()
        record_event(
            action="site.updated",
            organisation=locked.organisation,
            target=locked,
            before=before,
            after=locked.description,
        )
        transaction.on_commit(lambda: regenerate_site_instructions.delay(locked.pk))
    return locked
