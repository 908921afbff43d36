"""Writing the audit trail. Services call ``record_event`` inside their own transaction."""

from __future__ import annotations

from django.db import models

from portal.accounts.models import OrganisationKind
from portal.audit import context
from portal.audit.context import Source
from portal.audit.models import ActorKind, AuditEvent

_ACTOR_KIND_BY_SOURCE = {
    Source.WORKER: ActorKind.WORKER,
    Source.COMMAND: ActorKind.COMMAND,
    Source.SYSTEM: ActorKind.SYSTEM,
}


def record_event(
    *,
    action: str,
    organisation=None,
    target: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    by=None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event; who, where from and which request come from the audit context.

    ``by`` (a user) overrides the context's person, e.g. for a login, where the request has no
    signed-in user yet. ``actor_label`` names an actor without an account (a failed login's username).
    """
    ctx = context.current()
    user_id = by.pk if by is not None else ctx.user_id
    label = actor_label or (by.get_username() if by is not None else ctx.actor_label)
    if user_id is not None:
        kind = ActorKind.PERSON
    elif ctx.source in (Source.WEB, Source.API):
        kind = ActorKind.ANONYMOUS
    else:
        kind = _ACTOR_KIND_BY_SOURCE[ctx.source]
    return AuditEvent.objects.create(
        actor_kind=kind,
        actor_user_id=user_id,
        actor_label=label[:150],
        organisation=organisation,
        organisation_name=organisation.name if organisation is not None else "",
        reseller_id=reseller_of(organisation),
        action=action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        before=before,
        after=after,
        source=ctx.source,
        request_id=ctx.request_id,
        ip_address=ctx.ip_address,
    )


def reseller_of(organisation) -> int | None:
    """The id of the reseller whose trail holds ``organisation``'s events (``AuditEvent.
    reseller``): a reseller's own, its parent's for a reseller's client; None for the provider
    and the customers directly below it."""
    if organisation is None:
        return None
    if organisation.kind == OrganisationKind.RESELLER:
        return organisation.pk
    if organisation.kind == OrganisationKind.CUSTOMER and organisation.parent_id is not None:
        # Loaded once per instance (the pages' organisation comes with its parent).
        parent = organisation.parent
        return parent.pk if parent.kind == OrganisationKind.RESELLER else None
    return None


def snapshot(instance: models.Model, fields: list[str]) -> dict:
    """A JSON-friendly copy of ``fields`` of ``instance``, for before/after."""
    data = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, models.Model):
            value = value.pk
        elif value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)
        data[name] = value
    return data
