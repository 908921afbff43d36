"""A customer's site: one network behind one firewall, with one backup host."""
from django.db import models


class Site(models.Model):
    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=40, blank=True, help_text="Firewall vendor slug")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="site_name_unique_in_org")
        ]

    def __str__(self) -> str:
        return self.name
