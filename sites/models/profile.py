"""Service profiles: what a backup product needs from the network, as data (not code)."""
from django.db import models

from sites.description import GUIDE_PROFILE
from sites.description import ProfileSpec


class ServiceProfileQuerySet(models.QuerySet):
    def default(self) -> "ServiceProfile":
        """The default profile; the guide's is (re)created if none is marked default."""
        profile = self.filter(is_default=True).first()
        if profile is None:
            profile, _ = self.get_or_create(
                slug="securidata-online-backup",
                defaults={**GUIDE_PROFILE.to_dict(), "is_default": True},
            )
        return profile


class ServiceProfile(models.Model):
    """The datacenter networks and ports of one backup product; the guide's is the default.

    ``revision`` grows with every change; instruction sets record the revision they were made
    from, so the sites still on an older one are the ones to re-derive.
    """

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    is_default = models.BooleanField(default=False)
    datacenter_networks = models.JSONField(default=list)
    datacenter_fqdns = models.JSONField(default=list, blank=True)
    outbound_ports = models.JSONField(default=list)
    monitoring_ports = models.JSONField(default=list, blank=True)
    revision = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_profile"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_data(self) -> dict:
        return {
            "name": self.name,
            "datacenter_networks": self.datacenter_networks,
            "datacenter_fqdns": self.datacenter_fqdns,
            "outbound_ports": self.outbound_ports,
            "monitoring_ports": self.monitoring_ports,
        }

    def as_spec(self) -> ProfileSpec:
        return ProfileSpec.from_dict(self.as_data())
