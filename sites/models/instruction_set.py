"""Instruction sets: the frozen, versioned output of the policy engine and renderers for a site."""

from functools import cached_property

from django.conf import settings
from django.db import models

from sites.instructions.documents import read_documents, unique_warnings
from sites.policy import PolicyWarning
from sites.vendors.base import Rendered


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
    renderers = models.JSONField()
    description = models.JSONField()
    rules = models.JSONField()
    documents = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

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
    def warnings(self) -> tuple[PolicyWarning, ...]:
        return unique_warnings(self.rendered)
