"""A site's rollout: following its instructions until the ports are proven open."""
from django.db import models


class RolloutState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Rollout(models.Model):
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="rollouts")
    state = models.CharField(
        max_length=12, choices=RolloutState.choices, default=RolloutState.NOT_STARTED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return f"{self.site} · {self.get_state_display()}"
