"""From claims to roles: verified addresses only, claims as strings or lists, the stronger role."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.sso.mapping import granted_roles, parse_rules

RULES = parse_rules(
    [
        {"email_domain": "Acme.example", "organisation": "acme", "role": "customer_viewer"},
        {
            "claim": "groups",
            "value": "acme-admins",
            "organisation": "acme",
            "role": "customer_admin",
        },
        {"claim": "department", "value": "support", "organisation": "provider", "role": "support"},
    ],
    "mapping",
)


@pytest.mark.parametrize(
    ("claims", "grants"),
    [
        ({"email": "a@acme.example", "email_verified": True}, {"acme": "customer_viewer"}),
        ({"email": "A@ACME.example", "email_verified": True}, {"acme": "customer_viewer"}),
        ({"email": "a@acme.example", "email_verified": False}, {}),
        ({"email": "a@acme.example", "email_verified": "true"}, {}),  # a string is no promise
        ({"email": "a@acme.example"}, {}),
        ({"email": "a@sub.acme.example", "email_verified": True}, {}),
        ({"email": "a@notacme.example", "email_verified": True}, {}),
        (
            {"email": "a@acme.example", "email_verified": True, "groups": ["acme-admins"]},
            {"acme": "customer_admin"},
        ),
        ({"groups": "acme-admins"}, {"acme": "customer_admin"}),
        ({"groups": ["acme-admins-not"]}, {}),
        ({"department": "support"}, {"provider": "support"}),
    ],
)
def test_granted_roles(claims, grants):
    assert granted_roles(RULES, claims) == grants


def test_the_short_form_is_by_domain():
    (rule,) = parse_rules(
        {"example-reseller.com": {"organisation": "r", "role": "reseller_admin"}}, "m"
    )
    assert (rule.email_domain, rule.organisation, rule.role) == (
        "example-reseller.com",
        "r",
        "reseller_admin",
    )


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        (
            [{"email_domain": "a.example", "organisation": "a", "role": "admin"}],
            "m[0].role: one of",
        ),
        ([{"email_domain": "a.example", "role": "customer_admin"}], "m[0].organisation"),
        ([{"organisation": "a", "role": "customer_admin"}], "m[0]: either email_domain or claim"),
        ([{"claim": "groups", "organisation": "a", "role": "customer_admin"}], "m[0].value"),
        (
            [{"email_domain": "@a", "organisation": "a", "role": "customer_admin"}],
            "m[0].email_domain",
        ),
        ("acme", "m: a list of rules"),
    ],
)
def test_a_malformed_rule_is_named(rules, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_rules(rules, "m")
