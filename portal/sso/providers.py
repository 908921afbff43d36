"""The identity providers the portal trusts, read from ``settings.OIDC_PROVIDERS`` (the
environment: see portal/settings.py and docs/people.md).

Each provider is an OpenID Connect issuer with this portal's client id and secret, a display name
for the login page, and the rules (``mapping``) that turn its people's claims into memberships.
Nothing here touches the database or the network, so the configuration can be checked at start-up.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.text import slugify

from portal.sso.mapping import MappingRule, parse_rules

DEFAULT_SCOPES = "openid email profile"


@dataclass(frozen=True)
class Provider:
    slug: str  # in the portal's URLs: /accounts/sso/<slug>/
    name: str  # "Sign in with <name>"
    issuer: str  # discovery: <issuer>/.well-known/openid-configuration
    client_id: str
    client_secret: str
    rules: tuple[MappingRule, ...]
    scopes: str = DEFAULT_SCOPES
    # An account that already holds the verified address is linked (not refused) at first login.
    link_existing_accounts: bool = False
    # ``amr`` values that count as a second factor done at the provider; empty: none counts and
    # the portal asks its own code of people who have or need one.
    mfa_amr: tuple[str, ...] = ()

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


def _required(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ImproperlyConfigured(f"{where}.{key}: required (a non-empty string)")
    return value.strip()


def parse_provider(entry: object, where: str) -> Provider:
    """One provider from its JSON object; a wrong or missing field raises ImproperlyConfigured
    naming it (e.g. ``OIDC_PROVIDERS[1].client_id``)."""
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where}: an object with issuer, client_id, client_secret…")
    name = _required(entry, "name", where)
    slug = entry.get("slug") or slugify(name)
    if slug != slugify(slug) or not slug:
        raise ImproperlyConfigured(f"{where}.slug: letters, digits and hyphens only")
    issuer = _required(entry, "issuer", where)
    if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ImproperlyConfigured(f"{where}.issuer: an https:// address")
    mfa_amr = entry.get("mfa_amr", [])
    if not isinstance(mfa_amr, list) or not all(isinstance(v, str) for v in mfa_amr):
        raise ImproperlyConfigured(f'{where}.mfa_amr: a list of amr values, e.g. ["mfa"]')
    link = entry.get("link_existing_accounts", False)
    if not isinstance(link, bool):
        raise ImproperlyConfigured(f"{where}.link_existing_accounts: true or false")
    return Provider(
        slug=slug,
        name=name,
        issuer=issuer.rstrip("/"),
        client_id=_required(entry, "client_id", where),
        client_secret=_required(entry, "client_secret", where),
        rules=parse_rules(entry.get("mapping", []), f"{where}.mapping"),
        scopes=entry.get("scopes") or DEFAULT_SCOPES,
        link_existing_accounts=link,
        mfa_amr=tuple(mfa_amr),
    )


def configured_providers() -> dict[str, Provider]:
    """Slug → provider, in the order configured; empty when single sign-on is not configured."""
    entries = settings.OIDC_PROVIDERS
    if not isinstance(entries, list):
        raise ImproperlyConfigured("OIDC_PROVIDERS: a JSON list of providers")
    providers: dict[str, Provider] = {}
    for index, entry in enumerate(entries):
        provider = parse_provider(entry, f"OIDC_PROVIDERS[{index}]")
        if provider.slug in providers:
            raise ImproperlyConfigured(f"OIDC_PROVIDERS[{index}].slug: {provider.slug!r} twice")
        providers[provider.slug] = provider
    return providers


def provider_or_none(slug: str) -> Provider | None:
    return configured_providers().get(slug)
