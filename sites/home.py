"""The sites' part of an organisation's home page (registered in ``SitesConfig.ready``)."""

from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from sites.selectors import rollouts_in_progress, sites_for
from sites.selectors.lifecycle import notices_for


def home_figures(actor: Actor, organisation: Organisation) -> dict:
    """How many sites and rollouts in progress the organisation sees, its latest changed sites,
    and its latest notices (a profile change that gives its sites steps to change)."""
    sites = sites_for(actor, organisation)
    return {
        "site_count": sites.count(),
        "rollouts_in_progress": rollouts_in_progress(actor, organisation).count(),
        "recent_sites": list(sites.order_by("-updated_at")[:8]),
        "notices": list(notices_for(organisation)),
    }
