"""One site's timeline: every audit event of the site, its instruction versions, their steps,
its probe runs, and the members of its organisation, oldest first.

The site is given by id and organisation (``portal.audit`` does not import the sites domain);
the events are those of ``events_for``, so the timeline never shows more than the audit trail of
the organisation it is read from.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Q, QuerySet

from portal.accounts.models import Organisation
from portal.accounts.permissions import Actor
from portal.audit.models import AuditEvent
from portal.audit.selectors import diff, events_for, site_events_filter

OLDEST_FIRST = ("occurred_at", "id")

# Action families about who belongs to the site's organisation (joined, left, invited, roles).
MEMBER_FAMILIES = ("membership", "invitation", "member")


@dataclass(frozen=True)
class Strand:
    """One kind of event on a site's timeline: its name, and the audit object types or action
    families that make it up."""

    key: str
    label: str
    object_types: tuple[str, ...] = ()
    families: tuple[str, ...] = ()


STRANDS = (
    Strand("site", "Site", object_types=("sites.site",)),
    Strand("instructions", "Instructions", object_types=("sites.instructionset",)),
    Strand("steps", "Steps", object_types=("sites.rolloutstep",)),
    Strand("probes", "Checks", object_types=("sites.proberun",)),
    Strand("members", "Members", families=MEMBER_FAMILIES),
)


def strand_of(event: AuditEvent) -> Strand | None:
    """The strand an event of a site's timeline belongs to (for its label and colour)."""
    family = event.action.split(".", 1)[0]
    for strand in STRANDS:
        if event.object_type in strand.object_types or family in strand.families:
            return strand
    return None


def member_events_filter(organisation_id: int) -> Q:
    """Events about the members of one organisation: memberships, invitations, forced sign-outs."""
    families = Q()
    for family in MEMBER_FAMILIES:
        families |= Q(action__startswith=f"{family}.")
    return Q(organisation_id=organisation_id) & families


def site_timeline(
    actor: Actor, organisation: Organisation, *, site_id: int
) -> QuerySet[AuditEvent]:
    """Every event of the site ``site_id`` of ``organisation`` and of what belongs to it (its
    instruction sets, their steps, its probe runs), and of ``organisation``'s members, within
    ``organisation``'s audit scope for ``actor``, oldest first.

    One query for the rows (subqueries only), whatever the number of versions, steps and runs;
    nothing if the site is not ``organisation``'s.
    """
    sites = apps.get_model("sites", "Site").objects.filter(
        pk=site_id, organisation_id=organisation.pk
    )
    return (
        events_for(actor, organisation)
        .filter(site_events_filter(sites) | member_events_filter(organisation.pk))
        .order_by(*OLDEST_FIRST)
    )


@dataclass(frozen=True)
class TimelineEntry:
    """An event as the timeline shows it: the event, its strand and what it changed."""

    event: AuditEvent
    strand: Strand | None

    @property
    def changes(self):
        """What changed, key by key, when the event recorded both sides (a step's state, a
        probe's outcome); a creation shows its recorded values on the object's own history."""
        if self.event.before is None or self.event.after is None:
            return ()
        return diff(self.event.before, self.event.after).changes


def timeline_entries(events) -> list[TimelineEntry]:
    return [TimelineEntry(event, strand_of(event)) for event in events]


def strand_filter(strand: Strand) -> Q:
    """Events of one strand (combined with ``site_timeline``'s own filter)."""
    condition = Q(object_type__in=strand.object_types) if strand.object_types else Q(pk__in=[])
    for family in strand.families:
        condition |= Q(action__startswith=f"{family}.")
    return condition
