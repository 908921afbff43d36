"""Site pages."""
from django.views.generic import ListView

from portal.accounts import permissions
from portal.core.tenancy import OrganisationMixin
from sites.selectors import sites_for


class SiteListView(OrganisationMixin, ListView):
    permission = permissions.can_view_organisation
    template_name = "sites/site_list.html"
    context_object_name = "sites"
    paginate_by = 50

    def get_queryset(self):
        return sites_for(self.request.actor, self.organisation)
