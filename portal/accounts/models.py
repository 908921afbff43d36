"""Organisations (provider › reseller › customer) and the memberships that give people roles in them."""

from django.conf import settings
from django.db import models


class OrganisationKind(models.TextChoices):
    PROVIDER = "provider", "Provider"
    RESELLER = "reseller", "Reseller"
    CUSTOMER = "customer", "Customer"


class Organisation(models.Model):
    """A tenant. The provider is the root; a reseller's clients are customers whose parent it is."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="clients"
    )
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="provider", parent__isnull=True)
                | models.Q(kind__in=["reseller", "customer"], parent__isnull=False),
                name="organisation_parent_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_provider(self) -> bool:
        return self.kind == OrganisationKind.PROVIDER

    @property
    def is_reseller(self) -> bool:
        return self.kind == OrganisationKind.RESELLER

    @property
    def is_customer(self) -> bool:
        return self.kind == OrganisationKind.CUSTOMER


class Role(models.TextChoices):
    CUSTOMER_ADMIN = "customer_admin", "Customer admin"
    CUSTOMER_VIEWER = "customer_viewer", "Customer viewer"
    RESELLER_ADMIN = "reseller_admin", "Reseller admin"
    SUPPORT = "support", "Provider support"
    OPERATOR = "operator", "Provider operator"


# Which roles a membership may carry in which kind of organisation.
ROLES_BY_KIND = {
    OrganisationKind.CUSTOMER: (Role.CUSTOMER_ADMIN, Role.CUSTOMER_VIEWER),
    OrganisationKind.RESELLER: (Role.RESELLER_ADMIN,),
    OrganisationKind.PROVIDER: (Role.SUPPORT, Role.OPERATOR),
}


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"
