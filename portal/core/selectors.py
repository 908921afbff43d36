"""The home page's figures for an organisation, in a fixed number of queries."""
from portal.accounts.models import OrganisationKind
from portal.accounts.selectors import client_organisations
from portal.audit.selectors import events_for
from sites.selectors import rollouts_in_progress, sites_for


def home_summary(actor, organisation, *, recent_events: int = 8) -> dict:
    sites = sites_for(actor, organisation)
    summary = {
        "site_count": sites.count(),
        "rollouts_in_progress": rollouts_in_progress(actor, organisation).count(),
        "recent_sites": list(sites.order_by("-updated_at")[:8]),
        "recent_events": list(events_for(actor, organisation)[:recent_events]),
    }
    if organisation.kind != OrganisationKind.CUSTOMER:
        clients = list(client_organisations(actor, organisation))
        summary["clients"] = clients
        summary["client_count"] = len(clients)
    return summary
