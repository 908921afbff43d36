"""Every page answers with the Content-Security-Policy (issue #14 point 6): the URL walk's every
route, for a signed-in person and anonymously, error pages included. Chromium checks that the
pages keep to it (tests/portal/test_browser_csp.py)."""

import re

import pytest
from django.conf import settings
from django.test import Client

from portal.accounts.models import Role
from tests.portal.test_url_walk import ALL_PATTERNS, fill, related_object

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def urls(world) -> list[str]:
    organisation = world.customer
    found = []
    for route, entry in ALL_PATTERNS:
        values = {
            "org_slug": organisation.slug,
            "uidb64": "MQ",
            "token": "x",
            "token_pk": 1,
            "passkey_pk": 1,
        }
        for name in entry.pattern.converters:
            if name not in values:
                values[name], _ = related_object(world, organisation, name)
        found.append(fill(route, values))
    return found


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
def test_every_route_answers_with_the_policy(world, signed_in):
    client = Client()
    if signed_in:
        client.force_login(world.people[Role.CUSTOMER_ADMIN])
    missing = []
    for url in [*urls(world), "/no-such-page/", "/o/no-such-org/sites/"]:
        response = client.get(url)
        if response.headers.get("Content-Security-Policy") != POLICY:
            missing.append(f"{url} ({response.status_code})")
    assert not missing, f"without the policy: {missing}"


def test_templates_carry_no_inline_script_handler_or_style():
    """What the policy refuses, caught before a browser runs: <script> without src, on…= handlers,
    hx-on (evaluated code) and style attributes."""
    forbidden = re.compile(r"<script(?![^>]*\bsrc=)|\son[a-z]+=|\shx-on[:-]|\sstyle=|<style")
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for path in sorted((settings.BASE_DIR / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line) and "{% comment %}" not in line
    ]
    assert not offenders, offenders
