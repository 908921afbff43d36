"""The audit API, below /api/o/<org_slug>/audit/: the organisation's audit trail."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.pagination import PageNumberPagination

from portal.accounts import permissions
from portal.api.tenancy import OrganisationAPIView
from portal.audit.api.filtersets import AuditEventFilterSet
from portal.audit.api.serializers import AuditEventSerializer
from portal.audit.models import AuditEvent
from portal.audit.selectors import CappedPaginator, events_for


class AuditPagination(PageNumberPagination):
    """Pages whose ``count`` stops at ``EVENT_COUNT_CAP + 1`` (see ``CappedPaginator``);
    ``count_is_capped`` says when it did: there are more events than that, and the pages go
    back only so far (narrow ``date_from``/``date_to`` to reach older ones)."""

    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_is_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count_is_capped"] = {
            "type": "boolean",
            "description": "The count stopped counting: more events match than it says.",
        }
        return paginated


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
    pagination_class = AuditPagination

    def get_queryset(self):
        if self.is_schema_generation:
            return AuditEvent.objects.none()
        return events_for(self.actor, self.organisation)

    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)
