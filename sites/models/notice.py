"""Notices: what the portal tells an organisation's admins about a change they did not make
(a service profile change re-deriving their sites), shown in the portal and mailed."""

from django.conf import settings
from django.db import models


class Notice(models.Model):
    """One announcement to one organisation (a customer or a reseller). ``mailed_at`` is set
    when its mail went out, so a task sent twice mails once; ``dismissed_at`` when one of the
    organisation's admins dismissed it."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="notices"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    reason = models.TextField(blank=True)
    profile = models.ForeignKey(
        "sites.ServiceProfile", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile_revision = models.PositiveIntegerField(null=True, blank=True)
    site_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    mailed_at = models.DateTimeField(null=True, blank=True)
    # An admin of the organisation read it and put it away: the home page no longer shows it.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="notice_recent")]

    def __str__(self) -> str:
        return self.subject
