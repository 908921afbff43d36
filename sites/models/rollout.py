"""A site's rollout: following one instruction set step by step until the ports are proven open."""

from django.conf import settings
from django.db import models


class RolloutState(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class StepState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Rollout(models.Model):
    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="rollouts")
    instruction_set = models.OneToOneField(
        "sites.InstructionSet",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rollout",
    )
    state = models.CharField(
        max_length=12, choices=RolloutState.choices, default=RolloutState.NOT_STARTED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept with ``state`` by ``sites.services.rollouts.refresh_rollout_state`` (whoever changes a
    # step), so that lists show and sort by progress without counting steps.
    steps_total = models.PositiveIntegerField(default=0, editable=False)
    steps_finished = models.PositiveIntegerField(
        default=0, editable=False, help_text="Steps done or skipped"
    )

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"
        indexes = [
            # The dashboard's rollout filter and "stalled" flag: the instruction sets of the
            # rollouts in a state (made before a time), from the index alone.
            models.Index(
                fields=["state", "created_at", "instruction_set"], name="rollout_state_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site} · {self.get_state_display()}"


class RolloutStep(models.Model):
    """One step of a rollout, in the order the customer follows them (``position``).

    ``vendor`` and ``number`` name the step of the instruction set's documents it follows: its
    content is ``sites.instructions.step_contents(documents)[vendor, number]``. ``key`` and
    ``fingerprint`` (``step_key``, ``step_fingerprint``) carry its state over to a new version
    when the step did not change. Marked through ``sites.services.rollouts.mark_step``.
    """

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    vendor = models.CharField(max_length=40)
    number = models.PositiveIntegerField(help_text="The step's number within its vendor document")
    key = models.CharField(max_length=400)
    fingerprint = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=10)
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.PENDING)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rollout", "position"]
        indexes = [
            models.Index(fields=["rollout", "state"], name="rollout_step_state"),
            # The "stalled" flag: the few steps marked lately, not every step.
            models.Index(fields=["changed_at", "rollout"], name="rollout_step_changed"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["rollout", "position"], name="one_step_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.rollout.site} step {self.position}: {self.title}"
