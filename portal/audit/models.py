"""The audit trail: one append-only row per change of state.

Rows keep copies of the names they point at (actor, organisation, object) and carry no database
foreign keys, so deleting a person or an organisation never needs to touch history. The database
itself refuses UPDATE and DELETE of these rows (see ``portal.audit.triggers``).
"""

from django.conf import settings
from django.db import models

from portal.audit.context import Source


class ActorKind(models.TextChoices):
    PERSON = "person", "Person"
    WORKER = "worker", "Worker"
    COMMAND = "command", "Command"
    ANONYMOUS = "anonymous", "Anonymous"
    SYSTEM = "system", "System"


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(auto_now_add=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    organisation_name = models.CharField(max_length=120, blank=True)
    # The reseller whose trail holds the event: the organisation's reseller, or the reseller
    # itself; null for the provider's events, its direct customers' and those of no
    # organisation. Copied when the event is written (``record_event``), so that a reseller's
    # trail is one range of one index (its clients' events among ten million) rather than the
    # events of each of its clients merged; an organisation never changes parent, so the copy
    # stays true.
    reseller = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_reseller_time leads with it
        related_name="+",
    )
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.CHOICES)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        # Every search reads newest first (occurred_at, id descending) and stops after a page:
        # each filter has an index ending in (occurred_at, id), read backwards from its newest
        # entry, so a page costs the same at a thousand events and at ten million. The time
        # range is a range of the same indexes; on PostgreSQL a BRIN index on occurred_at (rows
        # arrive in time order) serves range scans that are not newest-first, such as exports
        # (migration 0004). Names and labels searched by text have trigram indexes there too.
        indexes = [
            models.Index(fields=["occurred_at", "id"], name="audit_time"),
            models.Index(fields=["organisation", "occurred_at", "id"], name="audit_org_time"),
            # A reseller's trail, and that trail filtered by action (migration 0006).
            models.Index(fields=["reseller", "occurred_at", "id"], name="audit_reseller_time"),
            models.Index(
                fields=["reseller", "action", "occurred_at", "id"], name="audit_reseller_action"
            ),
            models.Index(
                fields=["object_type", "object_id", "occurred_at", "id"], name="audit_object"
            ),
            models.Index(fields=["actor_user", "occurred_at", "id"], name="audit_actor_time"),
            models.Index(fields=["action", "occurred_at", "id"], name="audit_action_time"),
            models.Index(fields=["source", "occurred_at", "id"], name="audit_source_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label or self.actor_kind} {self.action}"
