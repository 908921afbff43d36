"""The home page's figures for an organisation, in a fixed number of queries.

The figures of other apps (the sites app's site count, rollouts in progress and recent sites)
come from the contributors they register when they start (``register_home_contributor`` in their
``AppConfig.ready``), so this app imports none of them.
"""

from collections.abc import Callable

from portal.accounts.models import Organisation, OrganisationKind
from portal.accounts.permissions import Actor
from portal.accounts.selectors import client_organisations
from portal.audit.selectors import events_for

HomeContributor = Callable[[Actor, Organisation], dict]

_contributors: list[HomeContributor] = []


def register_home_contributor(contributor: HomeContributor) -> None:
    """Add ``contributor``'s figures to every home page (once, however often it registers)."""
    if contributor not in _contributors:
        _contributors.append(contributor)


def home_summary(actor: Actor, organisation: Organisation, *, recent_events: int = 8) -> dict:
    summary: dict = {}
    for contributor in _contributors:
        summary.update(contributor(actor, organisation))
    summary["recent_events"] = list(events_for(actor, organisation)[:recent_events])
    if organisation.kind != OrganisationKind.CUSTOMER:
        clients = list(client_organisations(actor, organisation))
        summary["clients"] = clients
        summary["client_count"] = len(clients)
    return summary
