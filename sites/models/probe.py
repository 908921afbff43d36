"""Probe runs and what the probe responder observed: the proof that a path is open."""

from django.conf import settings
from django.db import models


class ProbeDirection(models.TextChoices):
    OUTBOUND = "outbound", "Outbound (backup host → datacenter)"
    INBOUND = "inbound", "Inbound (monitoring → backup host)"


class ProbePurpose(models.TextChoices):
    VERIFY = "verify", "Prove the path is open"
    RESTRICTION = "restriction", "Prove another LAN machine is kept out"
    # After the monitoring access was removed: the inbound check must now fail on every port.
    CLOSURE = "closure", "Prove the monitoring ports are closed"


class ProbeRunState(models.TextChoices):
    WAITING = "waiting", "Waiting for the probe"
    RUNNING = "running", "Checking"
    PROVEN = "proven", "Proven"
    FAILED = "failed", "Failed"
    NOT_PROVEN = "not_proven", "Not proven"
    EXPIRED = "expired", "Expired"


OPEN_STATES = (ProbeRunState.WAITING, ProbeRunState.RUNNING)


class ProbeSource(models.TextChoices):
    PERSON = "person", "Started on the site page"
    AGENT = "agent", "Started by the probe agent on the backup host"
    SCHEDULE = "schedule", "Started by the re-verification schedule"


class ProbeRun(models.Model):
    """One probe of a site: a token, the ports and protocols to prove, and the outcome.

    ``expected`` lists ``{"protocol", "port"}``; the run is proven when every one was observed
    (outbound) or answered (inbound). A restriction run is proven when *nothing* arrives before it
    expires: the other machine was kept out.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="probe_runs")
    instruction_set = models.ForeignKey(
        "sites.InstructionSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    direction = models.CharField(max_length=10, choices=ProbeDirection.choices)
    purpose = models.CharField(
        max_length=12, choices=ProbePurpose.choices, default=ProbePurpose.VERIFY
    )
    state = models.CharField(
        max_length=12, choices=ProbeRunState.choices, default=ProbeRunState.WAITING
    )
    source = models.CharField(
        max_length=10, choices=ProbeSource.choices, default=ProbeSource.PERSON
    )
    expected = models.JSONField(default=list)
    token = models.CharField(max_length=120, unique=True, blank=True)
    expires_at = models.DateTimeField()
    # Inbound checks only: how many times a worker claimed the check (one ProbeAttempt row each),
    # and when someone asked for it (a lost message leaves the run waiting with this set).
    attempts = models.PositiveIntegerField(default=0)
    check_requested_at = models.DateTimeField(null=True, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["site", "-created_at"], name="probe_run_site_time"),
            models.Index(fields=["state", "expires_at"], name="probe_run_state_expiry"),
            models.Index(fields=["site", "state", "finished_at"], name="probe_run_site_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} probe #{self.pk} of {self.site}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    LOST = "lost", "Worker stopped; sent again"
    GAVE_UP = "gave_up", "Worker stopped; given up"


class ProbeAttempt(models.Model):
    """One worker's try at an inbound check: a run is tried again when its worker dies mid-check
    (``requeue_stuck_inbound_runs``), and each try is kept, so support can see what happened."""

    run = models.ForeignKey(ProbeRun, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    outcome = models.CharField(
        max_length=10, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING
    )
    detail = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_probe_attempt_per_number")
        ]

    def __str__(self) -> str:
        return f"Attempt {self.number} of probe #{self.run_id}: {self.get_outcome_display()}"


class ProbeObservation(models.Model):
    """What the receiving side saw: a probe that arrived (``ok``) or was refused (error code).

    One accepted observation per run, port and protocol at most (a replay or a retried batch
    cannot duplicate a result).
    """

    run = models.ForeignKey(
        ProbeRun, null=True, blank=True, on_delete=models.CASCADE, related_name="observations"
    )
    direction = models.CharField(max_length=10, choices=ProbeDirection.choices)
    port = models.PositiveIntegerField()
    protocol = models.CharField(max_length=3)
    observed_ip = models.GenericIPAddressField(null=True, blank=True)
    observed_port = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20)
    detail = models.CharField(max_length=300, blank=True)
    receipt = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "port", "protocol"],
                condition=models.Q(outcome="ok"),
                name="one_accepted_observation_per_port",
            )
        ]

    def __str__(self) -> str:
        return f"{self.protocol.upper()} {self.port} from {self.observed_ip}: {self.outcome}"
