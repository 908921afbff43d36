"""Instruction sets: the frozen, versioned output of the policy engine and renderers for a site."""
from django.conf import settings
from django.db import models


class InstructionSet(models.Model):
    """One version of a site's instructions. Never edited: a change makes a new version.

    ``content_hash`` covers the site description, the profile and the renderer versions
    (``sites.instructions.content_hash``); regenerating with nothing changed keeps the version.
    """

    site = models.ForeignKey("sites.Site", on_delete=models.CASCADE, related_name="instruction_sets")
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

    @property
    def warnings(self) -> list[dict]:
        seen, result = set(), []
        for document in self.documents:
            for warning in document["warnings"]:
                if warning["message"] not in seen:
                    seen.add(warning["message"])
                    result.append(warning)
        return result
