"""From an identity provider's claims to the roles it grants, by rules the operator configured.

A rule grants one role in one organisation (by slug) to everyone whose *verified* e-mail address
is in a domain, or whose claim (e.g. ``groups``) holds a value. The person gets exactly the roles
their rules grant: never more, and where two rules grant roles in the same organisation, the
stronger one. Pure: claims in, grants out; whether the organisation exists and takes that role is
the service's question, at sign-in.
"""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from portal.accounts.models import Role

# Within one kind of organisation, which role is stronger (a customer's admin over its viewer,
# the provider's operator over support).
ROLE_STRENGTH = {
    Role.CUSTOMER_VIEWER: 0,
    Role.CUSTOMER_ADMIN: 1,
    Role.RESELLER_ADMIN: 1,
    Role.SUPPORT: 0,
    Role.OPERATOR: 1,
}


@dataclass(frozen=True)
class MappingRule:
    organisation: str  # the organisation's slug
    role: str
    email_domain: str = ""  # matches a verified address in this domain (not its subdomains)
    claim: str = ""  # or: this claim holds ``value`` (a string, or a list containing it)
    value: str = ""

    def matches(self, claims: dict) -> bool:
        if self.email_domain:
            return verified_email_domain(claims) == self.email_domain
        held = claims.get(self.claim)
        if isinstance(held, list):
            return self.value in held
        return held == self.value


def verified_email(claims: dict) -> str:
    """The address, lower-cased, when the provider says it verified it; else ""."""
    email = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(email, str) or "@" not in email:
        return ""
    return email.strip().lower()


def verified_email_domain(claims: dict) -> str:
    return verified_email(claims).rpartition("@")[2]


def granted_roles(rules: tuple[MappingRule, ...], claims: dict) -> dict[str, str]:
    """Organisation slug → the strongest role the matching rules grant there."""
    grants: dict[str, str] = {}
    for rule in rules:
        if not rule.matches(claims):
            continue
        held = grants.get(rule.organisation)
        if held is None or ROLE_STRENGTH[Role(rule.role)] > ROLE_STRENGTH[Role(held)]:
            grants[rule.organisation] = rule.role
    return grants


def parse_rules(entries: object, where: str) -> tuple[MappingRule, ...]:
    """Rules from JSON: a list of ``{"email_domain" | "claim" + "value", "organisation",
    "role"}``, or the short form ``{"<domain>": {"organisation", "role"}, …}``."""
    if isinstance(entries, dict):
        entries = [{"email_domain": domain, **grant} for domain, grant in entries.items()]
    if not isinstance(entries, list):
        raise ImproperlyConfigured(f"{where}: a list of rules")
    return tuple(_parse_rule(entry, f"{where}[{i}]") for i, entry in enumerate(entries))


def _parse_rule(entry: object, where: str) -> MappingRule:
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where}: an object with organisation and role")
    organisation = entry.get("organisation")
    if not isinstance(organisation, str) or not organisation:
        raise ImproperlyConfigured(f"{where}.organisation: an organisation's slug")
    role = entry.get("role")
    if role not in Role.values:
        raise ImproperlyConfigured(f"{where}.role: one of {', '.join(Role.values)}")
    domain = entry.get("email_domain", "")
    claim = entry.get("claim", "")
    value = entry.get("value", "")
    if bool(domain) == bool(claim):
        raise ImproperlyConfigured(f"{where}: either email_domain or claim (with value)")
    if claim and (not isinstance(value, str) or not value):
        raise ImproperlyConfigured(f"{where}.value: the claim's value that grants the role")
    if domain and (not isinstance(domain, str) or "@" in domain or "." not in domain):
        raise ImproperlyConfigured(f"{where}.email_domain: a domain such as example.com")
    return MappingRule(
        organisation=organisation,
        role=role,
        email_domain=domain.strip().lower() if domain else "",
        claim=claim,
        value=value,
    )
