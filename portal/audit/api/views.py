"""The audit API, below /api/o/<org_slug>/audit/: the organisation's audit trail."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins

from portal.accounts import permissions
from portal.api.tenancy import OrganisationAPIView
from portal.audit.api.filtersets import AuditEventFilterSet
from portal.audit.api.serializers import AuditEventSerializer
from portal.audit.models import AuditEvent
from portal.audit.selectors import events_for


@extend_schema(tags=["audit"])
@extend_schema_view(
    get=extend_schema(
        summary="List the organisation's audit events",
        description="Newest first; a reseller's include its clients', the provider's everyone's.",
    )
)
class AuditEventListView(mixins.ListModelMixin, OrganisationAPIView):
    """The organisation's audit trail (``events_for``), for those who may read it."""

    permission = permissions.can_read_audit
    serializer_class = AuditEventSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        if self.is_schema_generation:
            return AuditEvent.objects.none()
        return events_for(self.actor, self.organisation)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)
