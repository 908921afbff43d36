"""A customer's site: one network behind one firewall, with one backup host."""

from datetime import UTC, datetime

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf

from sites.description import SiteDescription


class Reverify(models.TextChoices):
    OFF = "off", "Never"
    DAILY = "daily", "Every day"
    WEEKLY = "weekly", "Every week"


REVERIFY_PERIOD_DAYS = {Reverify.DAILY: 1, Reverify.WEEKLY: 7}

# What "never probed" sorts as in the dashboard's "Last probe" sort (last in either direction),
# in its key and in the indexes that serve it (sites.selectors.dashboard).
NEVER_LATE = datetime(9999, 12, 31, tzinfo=UTC)
NEVER_EARLY = datetime(1970, 1, 1, tzinfo=UTC)


# What a site without steps to follow (no instructions yet, or a plan with nothing to do) sorts
# as in the dashboard's "Rollout" sort: last in either direction (see ``rollout_progress``).
NO_PROGRESS_LATE = 1000
NO_PROGRESS_EARLY = -1


class Literal(Value):
    """A constant written into the SQL on SQLite instead of passed as a parameter: SQLite reads an
    index on an expression only for the same expression with the same constants, and a parameter
    is none to it (a sort key with a ``Value`` in it never reads its index there). PostgreSQL
    matches parameters and constants alike: there it is a ``Value``."""

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = self.as_sql(compiler, connection, **extra_context)
        value = params[0] if sql == "%s" and len(params) == 1 else None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value), []
        if isinstance(value, str):  # dates and times too, as SQLite stores them
            return "'" + value.replace("'", "''") + "'", []
        return sql, params


def rollout_progress(literal: type[Literal] | None = None):
    """The percent of the current rollout's steps finished, from the site's own columns (null
    without steps): the "Rollout" sort's index, and with ``literal=Literal`` its key (the same
    expression, its constants in the SQL on SQLite)."""
    hundred, zero = (literal(100), literal(0)) if literal else (100, 0)
    return F("rollout_steps_finished") * hundred / NullIf(F("rollout_steps_total"), zero)


def sort_indexes(name: str, key) -> list[models.Index]:
    """The two indexes of one dashboard sort (ascending, descending): its key, then the name and
    the id that break ties (ascending either way), as ``sites.selectors.dashboard.Ordering``
    orders: each page, however deep, is one range of one of them."""
    ascending, descending = key if isinstance(key, tuple) else (F(key), F(key))
    return [
        models.Index(ascending.asc(), F("name").asc(), F("id").asc(), name=f"site_sort_{name}"),
        models.Index(
            descending.desc(), F("name").asc(), F("id").asc(), name=f"site_sort_{name}_desc"
        ),
    ]


class Lifecycle(models.TextChoices):
    """Where the site is in its life (``sites.services.lifecycle``): in use, being removed from
    its firewall (a removal rollout of every rule is open), or removed (kept for the audit trail)."""

    ACTIVE = "active", "In use"
    DECOMMISSIONING = "decommissioning", "Being decommissioned"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class Site(models.Model):
    """The customer's description of a site, validated by ``SiteDescription``.

    ``description`` holds the whole description (the site-file shape, docs/site-file.md);
    ``name``, ``vendor`` and ``public_address`` are copied into columns for lists, filters and
    the probes' address checks.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=40, blank=True, help_text="Firewall vendor slug")
    profile = models.ForeignKey(
        "sites.ServiceProfile", null=True, on_delete=models.PROTECT, related_name="sites"
    )
    description = models.JSONField(default=dict, blank=True)
    public_address = models.GenericIPAddressField(null=True, blank=True, protocol="IPv4")
    reverify = models.CharField(
        max_length=10,
        choices=Reverify.choices,
        default=Reverify.WEEKLY,
        help_text="How often the proof must be renewed before the site is flagged as stale.",
    )
    public_address_changed_at = models.DateTimeField(null=True, blank=True)
    # The probe agent's key (sites.probes.agent) is derived, never stored: each new key bumps the
    # version, which revokes the one before; revoking turns the agent off (the version stays, so
    # an old key never comes back).
    agent_key_version = models.PositiveIntegerField(default=0)
    agent_enabled = models.BooleanField(default=False)
    # The proof flag ("stale", "failing", "") its people were last told about, so the
    # re-verification schedule mails them once per change, not once per run.
    notified_flag = models.CharField(max_length=10, blank=True)
    current_instruction_set = models.ForeignKey(
        "sites.InstructionSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The summary of the site's outbound verification probes, kept by ``sites.services.proof``
    # whenever such a run closes, so that lists filter and sort on columns (``proof_flag`` in
    # ``sites.selectors`` reads them): when the path was last proven; the state and finish time
    # of the latest settled run ("" and null: never settled).
    last_proven_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_probe_state = models.CharField(max_length=12, blank=True, editable=False)
    last_probe_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Until when the site waits on its customer: the expiry of the latest outbound verification
    # run opened since the last proof and still open (null: none), kept with the summary, so the
    # "waiting on customer" flag is a test of the site's own row (``proof_flag_q``).
    waiting_on_customer_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Monitoring access (the optional inbound forward) runs until this day unless recertified
    # (sites.services.expiry); null: monitoring is off. ``monitoring_reminded`` is the last
    # reminder sent for this expiry ("30", "7" days before; "expired"), so each goes out once.
    monitoring_expires_on = models.DateField(null=True, blank=True, editable=False)
    monitoring_reminded = models.CharField(max_length=8, blank=True, editable=False)
    # When a probe last proved the monitoring ports closed after their removal (null: never).
    monitoring_closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    lifecycle = models.CharField(
        max_length=16, choices=Lifecycle.choices, default=Lifecycle.ACTIVE, editable=False
    )
    # The current rollout's step counts (0 and 0 without instructions), copied from it by
    # ``sites.services.rollouts.follow_current_rollout`` whenever its steps change or the site
    # moves to a new version, so that the dashboard shows and sorts by progress from the site's
    # own row and an index (``site_sort_rollout``), without joining the rollouts.
    rollout_steps_total = models.PositiveIntegerField(default=0, editable=False)
    rollout_steps_finished = models.PositiveIntegerField(
        default=0, editable=False, help_text="Steps done or skipped"
    )
    # And its state ("" without instructions), copied with them: the dashboard's rollout filter.
    current_rollout_state = models.CharField(max_length=20, blank=True, editable=False)
    decommissioned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="site_name_unique_in_org")
        ]
        indexes = [
            # The dashboard's "probe failed" flag.
            models.Index(fields=["last_probe_state"], name="site_last_probe_state"),
            # Its default sort (organisation, then name) one organisation at a time, and a
            # customer's own list.
            models.Index(fields=["organisation", "name", "id"], name="site_org_name"),
            # Its sorts (see sort_indexes).
            models.Index(F("name").asc(), F("id").asc(), name="site_sort_name"),
            models.Index(F("name").desc(), F("id").asc(), name="site_sort_name_desc"),
            *sort_indexes("vendor", "vendor"),
            *sort_indexes("updated", "updated_at"),
            *sort_indexes(
                "rollout",
                (
                    Coalesce(rollout_progress(), Value(NO_PROGRESS_LATE)),
                    Coalesce(rollout_progress(), Value(NO_PROGRESS_EARLY)),
                ),
            ),
            *sort_indexes(
                "probe",
                (
                    Coalesce(F("last_probe_at"), Value(NEVER_LATE)),
                    Coalesce(F("last_probe_at"), Value(NEVER_EARLY)),
                ),
            ),
            # The dashboard's "waiting on customer" flag, in the default sort's order: the few
            # sites with an open request (a run that expired unanswered is closed by the sweep).
            models.Index(
                fields=["organisation", "name", "id"],
                condition=Q(waiting_on_customer_until__isnull=False),
                name="site_waiting_on_customer",
            ),
            # The dashboard's "monitoring access expiring" flag and the daily expiry sweep.
            models.Index(fields=["monitoring_expires_on"], name="site_monitoring_expires"),
        ]

    def __str__(self) -> str:
        return self.name

    def as_description(self) -> SiteDescription:
        return SiteDescription.from_dict(self.description)
