"""Service profiles: what a backup product needs from the network, as data (not code)."""

from ipaddress import IPv4Address

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from sites.description import ProfileSpec

# The longest a profile may let monitoring access run without a recertification.
MAX_MONITORING_ACCESS_MONTHS = 36


def served_probe_addresses() -> dict[str, str]:
    """Where this portal's probes go and come from, as profile data (``ProfileSpec``): the
    responder's address (``PROBE_RESPONDER_HOST`` when it is an IPv4 address, not a name) and the
    inbound checks' source (``PROBE_CHECK_SOURCE`` when set). A value that is neither is left
    out; ``sites.checks`` reports it."""
    data = {}
    for key, value in (
        ("probe_responder", settings.PROBE_RESPONDER_HOST),
        ("probe_check_source", settings.PROBE_CHECK_SOURCE),
    ):
        try:
            data[key] = str(IPv4Address(value.strip()))
        except ValueError:
            continue
    return data


class ServiceProfileQuerySet(models.QuerySet):
    def default(self) -> "ServiceProfile":
        """The profile new sites get. Only reads (it runs on every wizard preview): the data
        migration ``sites.0003_guide_profile`` creates the guide's as the default."""
        try:
            return self.get(is_default=True)
        except self.model.DoesNotExist:
            raise self.model.DoesNotExist(
                "No service profile is marked default: migration sites.0003_guide_profile "
                "creates the guide's; mark one profile is_default."
            ) from None


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
    # How long a site's monitoring access (the inbound forward) stays open before it must be
    # recertified, and the longest a customer may set it to (sites.services.expiry). Not part of
    # the rendered instructions: changing it re-derives nothing.
    monitoring_access_months = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MONITORING_ACCESS_MONTHS)],
        help_text="Months a site's monitoring access stays open before it must be recertified.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceProfileQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_profile",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def as_data(self) -> dict:
        """The profile as this portal serves it: its fields and where the probes go and come
        from (``served_probe_addresses``), which the instructions name, so a new address
        re-derives the sites like a profile change."""
        return {
            "name": self.name,
            "datacenter_networks": self.datacenter_networks,
            "datacenter_fqdns": self.datacenter_fqdns,
            "outbound_ports": self.outbound_ports,
            "monitoring_ports": self.monitoring_ports,
            **served_probe_addresses(),
        }

    def as_spec(self) -> ProfileSpec:
        return ProfileSpec.from_dict(self.as_data())
