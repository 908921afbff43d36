"""The site dashboard's headline counts as a worker counted them, one row per organisation's
page and person: the page reads its row instead of counting every covered site on a request
(``sites.services.dashboard_counts``)."""

from django.conf import settings
from django.db import models


class DashboardCounts(models.Model):
    """How many of the sites ``organisation``'s dashboard covers for ``user`` carried each
    headline flag at ``counted_at`` (``counts``: flag → sites; empty until first counted), under
    the grants whose fingerprint is ``scope`` (counts made under other grants are not shown).
    ``requested_at``: when a page last asked the workers for a new count."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="dashboard_counts_one_per_page"
            )
        ]

    def __str__(self) -> str:
        return f"dashboard counts of {self.organisation_id} for {self.user_id}"
