"""Personal API tokens: a person's credential for the REST API.

Only the SHA-256 hash of a token is stored; the token itself is shown once, when it is created.
A token acts as its person, with exactly that person's memberships and roles at the time of each
request; revoking it is permanent (the row stays, for the list and the audit trail).
"""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=100, help_text="What the token is for, e.g. “monitoring script”."
    )
    prefix = models.CharField(
        max_length=16, help_text="The token's first characters, shown to recognise it (not secret)."
    )
    key_hash = models.CharField(
        max_length=64, unique=True, help_text="SHA-256 of the whole token, hex."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
