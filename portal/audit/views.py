"""The audit trail of an organisation (search, diffs and export grow here)."""
from django.views.generic import ListView

from portal.accounts import permissions
from portal.audit.selectors import events_for
from portal.core.tenancy import OrganisationMixin


class AuditEventListView(OrganisationMixin, ListView):
    permission = permissions.can_read_audit
    template_name = "audit/event_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        return events_for(self.request.actor, self.organisation)
