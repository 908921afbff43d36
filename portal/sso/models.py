"""Which portal account a provider's person is, and which memberships single sign-on manages."""

from django.conf import settings
from django.db import models

from portal.accounts.models import Membership


class SsoIdentity(models.Model):
    """A person at an identity provider, known by the pair OpenID Connect guarantees stable:
    issuer and subject (``sub``). The e-mail address is kept as seen at the last sign-in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities"
    )
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_account_per_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer} → {self.user}"


class SsoGrant(models.Model):
    """A membership that a provider's mapping gave, so the next sign-in may change or take it
    back. Memberships from invitations have none and are never touched by single sign-on."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="sso")
    identity = models.ForeignKey(SsoIdentity, on_delete=models.CASCADE, related_name="grants")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.membership} (single sign-on)"
