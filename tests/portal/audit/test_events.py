"""Which changes of state leave an audit event, and what each event carries."""

import pytest
from django.test import Client

from portal.accounts import services
from portal.audit.models import ActorKind, AuditEvent
from tests.factories import PASSWORD, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_is_recorded_with_request_id_and_address():
    user = UserFactory(username="alice")
    client = Client(REMOTE_ADDR="198.51.100.20")
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor_user_id == user.pk
    assert event.actor_kind == ActorKind.PERSON
    assert event.source == "web"
    assert event.ip_address == "198.51.100.20"
    assert event.request_id == response["X-Request-ID"]


def test_failed_login_is_recorded_without_the_password():
    UserFactory(username="alice")
    response = Client().post("/accounts/login/", {"username": "alice", "password": "wrong-guess"})
    assert response.status_code == 422
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor_kind == ActorKind.ANONYMOUS
    assert event.actor_label == "alice"
    assert "wrong-guess" not in str(event.after) + str(event.before)


def test_permission_denial_is_recorded(world):
    client = Client()
    client.force_login(world.people["customer_viewer"])
    response = client.get(f"/o/{world.customer.slug}/settings/")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="permission.denied")
    assert event.actor_user_id == world.people["customer_viewer"].pk
    assert event.after == {"path": f"/o/{world.customer.slug}/settings/"}


def test_a_service_writes_exactly_one_event_with_before_and_after():
    organisation = CustomerFactory(name="Old name")
    services.update_organisation(organisation=organisation, name="New name", contact_email="")
    events = AuditEvent.objects.filter(action="organisation.updated")
    assert events.count() == 1
    event = events.get()
    assert event.before["name"] == "Old name"
    assert event.after["name"] == "New name"
    assert event.organisation_id == organisation.pk
    assert event.object_type == "accounts.organisation"
    assert event.object_id == str(organisation.pk)


def test_saving_unchanged_details_writes_no_event():
    organisation = CustomerFactory(name="Same", contact_email="")
    services.update_organisation(organisation=organisation, name="Same", contact_email="")
    assert not AuditEvent.objects.filter(action="organisation.updated").exists()
