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


# The role that administers each kind of organisation: an organisation keeps at least one.
ADMIN_ROLE_BY_KIND = {
    OrganisationKind.CUSTOMER: Role.CUSTOMER_ADMIN,
    OrganisationKind.RESELLER: Role.RESELLER_ADMIN,
    OrganisationKind.PROVIDER: Role.OPERATOR,
}


class Invitation(models.Model):
    """An e-mailed offer of a role in an organisation. The link's token is random and only its
    SHA-256 is stored; resending replaces it, so an older link dies. Single use: accepting stamps
    ``accepted_at``."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accepted_invitations",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} · {self.get_role_display()} · {self.organisation}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class SessionRecord(models.Model):
    """Where and when a person's session began and was last seen, so they (and their admins) can
    see and end it. Keyed by the session key, independent of the session engine."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_records"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} · {self.ip_address or '?'} · {self.user_agent[:40]}"
