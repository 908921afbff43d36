"""The audit trail through the API: scoped like the page (``events_for``), readable only where
``can_read_audit`` says so, filtered by action, source and dates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from tests.factories import AuditEventFactory
from tests.portal.api.helpers import token_client

pytestmark = pytest.mark.django_db


def audit_url(organisation) -> str:
    return f"/api/o/{organisation.slug}/audit/"


def actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["action"] for e in response.json()["results"]]


@pytest.fixture
def events(world):
    """A few events of the customer (and one of another tenant), made by hand."""
    customer, other = world.customer, world.other_customer
    return {
        "web": AuditEventFactory(organisation=customer, action="site.updated", source="web"),
        "api": AuditEventFactory(organisation=customer, action="site.created", source="api"),
        "step": AuditEventFactory(organisation=customer, action="rollout.step_done", source="api"),
        "other": AuditEventFactory(organisation=other, action="site.updated", source="web"),
    }


def test_only_the_organisations_events_newest_first(world, events):
    response = token_client(world.people["customer_admin"]).get(audit_url(world.customer))
    listed = response.json()["results"]
    assert events["other"].pk not in {e["id"] for e in listed}
    assert [e["id"] for e in listed] == sorted((e["id"] for e in listed), reverse=True)
    own = AuditEvent.objects.filter(organisation=world.customer).values_list("pk", flat=True)
    assert set(own) == {e["id"] for e in listed}


def test_filters_by_action_source_and_dates(world, events):
    client = token_client(world.people["customer_admin"])
    url = audit_url(world.customer)
    assert actions(client.get(url, {"action": "site.updated"})) == ["site.updated"]
    family = sorted(actions(client.get(url, {"action": "site.*"})))
    assert family == ["site.created", "site.updated"]
    only_api_steps = {"source": "api", "action": "rollout.step_done"}
    assert actions(client.get(url, only_api_steps)) == ["rollout.step_done"]
    today = timezone.localdate()
    assert len(actions(client.get(url, {"date_from": today, "date_to": today}))) >= 3
    assert actions(client.get(url, {"date_to": today - timedelta(days=1)})) == []
    assert actions(client.get(url, {"date_from": today + timedelta(days=1)})) == []
    # Days at the ends of the calendar are no error.
    assert client.get(url, {"date_from": "0001-01-01", "date_to": "9999-12-31"}).status_code == 200


def test_bad_filters_name_their_field(world, events):
    response = token_client(world.people["customer_admin"]).get(
        audit_url(world.customer), {"source": "fax", "date_from": "yesterday"}
    )
    assert response.status_code == 400
    assert {"source", "date_from"} <= set(response.json())


def test_who_may_read_the_trail(world, events):
    viewer = token_client(world.people["customer_viewer"])
    admin = token_client(world.people["customer_admin"])
    assert viewer.get(audit_url(world.customer)).status_code == 403
    assert admin.get(audit_url(world.other_customer)).status_code == 404
    support = token_client(world.people["support"])
    listed = support.get(audit_url(world.other_customer)).json()["results"]
    assert events["other"].pk in {e["id"] for e in listed}
    reseller = token_client(world.people["reseller_admin"])
    ids = {e["id"] for e in reseller.get(audit_url(world.reseller)).json()["results"]}
    assert events["web"].pk in ids and events["other"].pk not in ids
