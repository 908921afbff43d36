"""What the audit API gives: each event as JSON."""

from rest_framework import serializers

from portal.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor_label",
        read_only=True,
        help_text="Who: a username, the worker or the command.",
    )
    organisation = serializers.CharField(source="organisation_name", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor_kind",
            "actor",
            "organisation",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "before",
            "after",
            "source",
            "request_id",
            "ip_address",
        ]
        read_only_fields = fields
