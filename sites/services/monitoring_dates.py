"""When monitoring access starts and stops with the instructions: a new version with monitoring
on gives the access its first expiry date, one with monitoring off forgets it. The expiry itself
(reminders, recertification, removal on the day) is ``sites.services.expiry``."""

from __future__ import annotations

from collections.abc import Iterable

from portal.audit.services import record_event
from sites.models import Site
from sites.selectors.lifecycle import latest_allowed


def follow_monitoring(sites: Iterable[tuple[Site, bool]]) -> None:
    """After new versions of the instructions: give monitoring access its first expiry date where
    monitoring is now on and had none, and forget the date where monitoring is now off.
    ``sites``: (site with its profile, whether its new version has monitoring on)."""
    start, stop = [], []
    for site, monitoring in sites:
        if monitoring and site.monitoring_expires_on is None:
            start.append(site)
        elif not monitoring and site.monitoring_expires_on is not None:
            stop.append(site.pk)
    for site in start:
        expires_on = latest_allowed(site)
        Site.objects.filter(pk=site.pk, monitoring_expires_on__isnull=True).update(
            monitoring_expires_on=expires_on, monitoring_reminded=""
        )
        site.monitoring_expires_on, site.monitoring_reminded = expires_on, ""
        record_event(
            action="site.monitoring_access_started",
            organisation=site.organisation,
            target=site,
            after={"expires_on": expires_on.isoformat()},
        )
    if stop:
        Site.objects.filter(pk__in=stop).update(monitoring_expires_on=None, monitoring_reminded="")
