"""The probe agent of a site: its key, and the runs it starts (see ``sites.probes.agent``)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from portal.audit.services import record_event
from portal.core.errors import ServiceError
from sites.models import ProbeDirection, ProbeRun, ProbeSource, Site
from sites.models.site import REVERIFY_PERIOD_DAYS
from sites.probes.agent import agent_key, read_agent_key
from sites.selectors import proof_flag
from sites.services.probes import probe_key, start_probe_run


def issue_agent_key(*, site: Site) -> str:
    """A new agent key for the site, revoking the one before; shown once, never stored."""
    with transaction.atomic():
        Site.objects.filter(pk=site.pk).update(
            agent_key_version=F("agent_key_version") + 1, agent_enabled=True
        )
        site.refresh_from_db(fields=["agent_key_version", "agent_enabled"])
        record_event(
            action="site.agent_key_issued",
            organisation=site.organisation,
            target=site,
            after={"version": site.agent_key_version},
        )
    return agent_key(probe_key(), site.pk, site.agent_key_version)


def revoke_agent_key(*, site: Site) -> None:
    """No agent any more: the current key stops working, and scheduled inbound checks stop."""
    with transaction.atomic():
        locked = Site.objects.select_for_update().get(pk=site.pk)
        if not locked.agent_enabled:
            return
        Site.objects.filter(pk=site.pk).update(agent_enabled=False)
        record_event(
            action="site.agent_key_revoked",
            organisation=locked.organisation,
            target=locked,
            before={"version": locked.agent_key_version},
        )
    site.agent_enabled = False


def site_for_agent_key(key: object) -> Site:
    """The site whose current agent key this is; a ServiceError for any other string."""
    read = read_agent_key(probe_key(), key)
    if read is not None:
        site = (
            Site.objects.select_related("organisation", "profile")
            .filter(pk=read.site_id, agent_key_version=read.version, agent_enabled=True)
            .first()
        )
        if site is not None:
            return site
    raise ServiceError("key", "This agent key is not valid (mistyped, replaced or revoked).")


@dataclass(frozen=True)
class AgentPoll:
    """The answer to the agent's hourly question: a run to prove now, or fresh until when."""

    run: ProbeRun | None
    fresh_until: datetime | None = None


def poll_agent(*, site: Site) -> AgentPoll:
    """For the site of a valid agent key (``site_for_agent_key``): open an outbound verification
    run if the site is due for re-verification: never proven, failing, or stale by its schedule
    or a change of public address (``proof_flag``). A fresh site gets no run, so the agent can
    ask every hour and the site's schedule decides."""
    if proof_flag(site) == "":
        days = REVERIFY_PERIOD_DAYS.get(site.reverify)
        fresh_until = site.last_proven_at + timedelta(days=days) if days else None
        return AgentPoll(run=None, fresh_until=fresh_until)
    run = start_probe_run(site=site, direction=ProbeDirection.OUTBOUND, source=ProbeSource.AGENT)
    return AgentPoll(run=run)
