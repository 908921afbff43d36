"""Instruction sets: the frozen, versioned output of the policy engine and renderers for a site."""

from functools import cached_property

from django.conf import settings
from django.db import models

from sites.instructions.documents import read_documents, unique_warnings
from sites.policy import PolicyWarning
from sites.vendors.base import Rendered


class PlanKind(models.TextChoices):
    """What a version's rollout follows: the complete instructions, a change plan from the
    version the customer applied, or a removal plan (``sites.plans``)."""

    COMPLETE = "complete", "Complete instructions"
    CHANGE = "change", "Change plan"
    REMOVAL = "removal", "Removal plan"


class InstructionSet(models.Model):
    """One version of a site's instructions. Never edited: a change makes a new version.

    ``content_hash`` covers the site description, the profile and the renderer versions
    (``sites.instructions.content_hash``); regenerating with nothing changed keeps the version.
    ``documents`` are stored by ``sites.instructions.documents`` and read back as ``rendered``.
    """

    site = models.ForeignKey(
        "sites.Site", on_delete=models.CASCADE, related_name="instruction_sets"
    )
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    profile = models.ForeignKey("sites.ServiceProfile", on_delete=models.PROTECT, related_name="+")
    profile_revision = models.PositiveIntegerField()
    # The profile as this version was made from it (``ProfileSpec.to_dict``): a change plan
    # starts from the applied version's profile, which may have changed since. Null for versions
    # made before it was kept (the profile's current data stands in).
    profile_data = models.JSONField(null=True, blank=True)
    renderers = models.JSONField()
    description = models.JSONField()
    rules = models.JSONField()
    documents = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A plan (``kind`` change or removal): ``documents`` hold the plan's steps, which the rollout
    # follows; ``complete_documents`` the complete instructions of this version, for someone
    # starting fresh; ``applied_from`` the applied version the plan starts from.
    kind = models.CharField(max_length=10, choices=PlanKind.choices, default=PlanKind.COMPLETE)
    removal_scope = models.CharField(max_length=12, blank=True)  # "monitoring" or "all"
    applied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    complete_documents = models.JSONField(null=True, blank=True)
    # Why this version exists, for the people it concerns: what changed between the versions,
    # and the reason someone gave (the operator's for a profile change).
    changes = models.JSONField(default=list, blank=True)
    reason = models.TextField(blank=True)
    # The configuration check whose adjusted instructions the customer followed for this version
    # (``sites.plans.applied.AppliedCheck.as_dict``: its objects and denies), recorded when a
    # step shown adjusted is marked done, and kept by the plans made from this version; empty:
    # the plain text. Plans from this version compute its items as that text created them.
    applied_check = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["site", "version"], name="one_version_number_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.site} v{self.version}"

    @cached_property
    def rendered(self) -> list[Rendered]:
        """The stored documents, read back into the renderers' shape."""
        return read_documents(self.documents)

    @property
    def is_plan(self) -> bool:
        return self.kind != PlanKind.COMPLETE

    @cached_property
    def complete_rendered(self) -> list[Rendered]:
        """The complete instructions of this version (the plan's, for a plan)."""
        return read_documents(self.complete_documents or self.documents)

    @property
    def warnings(self) -> tuple[PolicyWarning, ...]:
        return unique_warnings(self.rendered)
