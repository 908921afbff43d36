"""Background jobs: their state and progress live here, not in the broker.

A page reload or a worker restart shows the truth; a task claims its job with a conditional update,
so a task delivered twice does the work once.
"""

from django.conf import settings
from django.db import models


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


FINISHED_STATES = (JobState.SUCCEEDED, JobState.FAILED)


class JobKind(models.TextChoices):
    HEALTH_PING = "health_ping", "Worker health ping"
    REDERIVE_PROFILE = "rederive_profile", "Re-derive sites after a profile change"
    BULK_REGENERATE = "bulk_regenerate", "Regenerate instructions"
    BULK_REVERIFY = "bulk_reverify", "Ask customers to prove again"


class Job(models.Model):
    kind = models.CharField(max_length=30, choices=JobKind.choices)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    params = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="job_state_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def is_bulk(self) -> bool:
        """A dashboard's job over many sites: its page shows what became of them."""
        return self.kind in (JobKind.BULK_REGENERATE, JobKind.BULK_REVERIFY)
