"""A ``permission.denied`` event always names the organisation (issue #14 point 9): the one the
refused page belongs to, else the person's current one."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from portal.audit.models import AuditEvent
from portal.core.tenancy import acting_organisation

pytestmark = pytest.mark.django_db


def denial() -> AuditEvent:
    return AuditEvent.objects.get(action="permission.denied")


def test_a_refused_page_names_its_organisation(world):
    client = Client()
    client.force_login(world.people[Role.CUSTOMER_VIEWER])
    assert client.get(f"/o/{world.customer.slug}/settings/").status_code == 403
    assert denial().organisation_id == world.customer.pk


def test_a_refusal_inside_a_view_names_its_organisation(world):
    """The dashboard's bulk bar refuses a viewer's regeneration after the page's own check."""
    site = world.sites[world.customer.slug]
    client = Client()
    client.force_login(world.people[Role.CUSTOMER_VIEWER])
    response = client.post(
        f"/o/{world.customer.slug}/sites/bulk/", {"action": "regenerate", "site": [site.pk]}
    )
    assert response.status_code == 403
    assert denial().organisation_id == world.customer.pk


def test_outside_an_organisation_the_current_one_is_named(world):
    person = world.people[Role.RESELLER_ADMIN]
    actor = Actor.for_user(person)
    request = RequestFactory().get("/somewhere/")
    request.session = SessionStore()
    assert acting_organisation(request, actor) == world.reseller  # their first
    request.session["active_org"] = world.customer.slug
    assert acting_organisation(request, actor) == world.customer  # the switcher's choice
    request.session["active_org"] = world.other_customer.slug  # not theirs to see
    assert acting_organisation(request, actor) == world.reseller
