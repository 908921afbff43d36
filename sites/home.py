"""The sites' part of an organisation's home page (registered in ``SitesConfig.ready``)."""

from django.db.models import Count, Q

from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from sites.models import RolloutState
from sites.selectors import sites_for
from sites.selectors.lifecycle import notices_for
from sites.selectors.sites import covered_sites


def home_figures(actor: Actor, organisation: Organisation) -> dict:
    """How many sites and rollouts in progress the organisation sees, its latest changed sites,
    and its latest notices (a profile change that gives its sites steps to change).

    Both figures in one count over the sites' own rows (the state of each one's current rollout
    is its stored copy, kept by ``sites.services.rollouts``): no join per site, and on PostgreSQL
    from the covering ``site_org_name`` alone (at 100,000 sites the joins cost 40 ms)."""
    figures = covered_sites(actor, organisation).aggregate(
        site_count=Count("pk"),
        rollouts_in_progress=Count("pk", filter=Q(current_rollout_state=RolloutState.IN_PROGRESS)),
    )
    return {
        **figures,
        "recent_sites": list(sites_for(actor, organisation).order_by("-updated_at")[:8]),
        "notices": list(notices_for(organisation)),
    }
