"""A customer's site: one network behind one firewall, with one backup host."""
from django.db import models

from sites.description import SiteDescription


class Reverify(models.TextChoices):
    OFF = "off", "Never"
    DAILY = "daily", "Every day"
    WEEKLY = "weekly", "Every week"


REVERIFY_PERIOD_DAYS = {Reverify.DAILY: 1, Reverify.WEEKLY: 7}


class Site(models.Model):
    """The customer's description of a site, validated by ``SiteDescription``.

    ``description`` holds the whole description (the site-file shape, docs/site-file.md);
    ``name``, ``vendor`` and ``public_address`` are copied into columns for lists, filters and
    the probes' address checks.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField(max_length=120)
    vendor = models.CharField(max_length=40, blank=True, help_text="Firewall vendor slug")
    profile = models.ForeignKey(
        "sites.ServiceProfile", null=True, on_delete=models.PROTECT, related_name="sites"
    )
    description = models.JSONField(default=dict, blank=True)
    public_address = models.GenericIPAddressField(null=True, blank=True, protocol="IPv4")
    reverify = models.CharField(
        max_length=10, choices=Reverify.choices, default=Reverify.WEEKLY,
        help_text="How often the proof must be renewed before the site is flagged as stale.",
    )
    public_address_changed_at = models.DateTimeField(null=True, blank=True)
    current_instruction_set = models.ForeignKey(
        "sites.InstructionSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="site_name_unique_in_org")
        ]
        indexes = [models.Index(fields=["vendor"], name="site_vendor")]

    def __str__(self) -> str:
        return self.name

    def as_description(self) -> SiteDescription:
        return SiteDescription.from_dict(self.description)
