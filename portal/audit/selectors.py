"""Reads of the audit trail, scoped like the organisation pages they appear on."""
from django.db.models import Q, QuerySet

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations
from portal.audit.models import AuditEvent


def events_for(actor: Actor, organisation: Organisation) -> QuerySet[AuditEvent]:
    """Events of ``organisation`` (and of its clients, for a reseller; of everyone, for the provider)."""
    events = AuditEvent.objects.all()
    if organisation.kind == OrganisationKind.PROVIDER:
        if actor.is_provider_staff:
            return events
        return events.none()
    visible = visible_organisations(actor)
    if organisation.kind == OrganisationKind.RESELLER:
        scope = Q(organisation=organisation) | Q(organisation__in=visible.filter(parent=organisation))
    else:
        scope = Q(organisation=organisation)
    return events.filter(scope, organisation__in=visible)
