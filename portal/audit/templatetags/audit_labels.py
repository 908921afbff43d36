"""Template filters that show audit events in words (portal.audit.labels)."""

from __future__ import annotations

from django import template

from portal.audit import labels
from portal.audit.models import AuditEvent

register = template.Library()


@register.filter
def action_sentence(action: str) -> str:
    return labels.action_sentence(action)


@register.filter
def actor_name(event: AuditEvent) -> str:
    return labels.actor_name(event)
