"""Probe runs through the API: started by ``start_probe_run`` (token, expected ports, audit event),
listed, read with what the responder observed; refusals name their field."""

import pytest

from portal.audit.models import AuditEvent
from sites.models import ProbeRun
from tests.factories import ProbeObservationFactory
from tests.portal.api.helpers import token_client

pytestmark = pytest.mark.django_db


def probes_url(site) -> str:
    return f"/api/o/{site.organisation.slug}/sites/{site.pk}/probes/"


def test_start_a_probe_run(world):
    person = world.people["customer_admin"]
    site = world.sites[world.customer.slug]
    response = token_client(person).post(probes_url(site), {"direction": "outbound"})
    assert response.status_code == 201, response.content
    data = response.json()
    run = ProbeRun.objects.get(pk=data["id"])
    assert run.site == site and run.created_by == person and run.purpose == "verify"
    assert data["token"] == run.token and data["state"] == "waiting"
    assert data["expected"] == [{"protocol": "tcp", "port": 4401}]
    assert data["instruction_set"] == site.current_instruction_set.version
    assert data["observations"] == []

    event = AuditEvent.objects.get(action="probe.started", object_id=str(run.pk))
    assert event.source == "api" and event.actor_user_id == person.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "direction"),
        ({"direction": "sideways"}, "direction"),
        ({"direction": "outbound", "purpose": "scan"}, "purpose"),
        ({"direction": "inbound", "purpose": "restriction"}, "purpose"),  # the service's rule
        ({"direction": "inbound"}, "direction"),  # monitoring is off for this site
    ],
)
def test_a_refused_probe_names_its_field_and_opens_nothing(world, body, field):
    site = world.sites[world.customer.slug]
    before = ProbeRun.objects.count()
    response = token_client(world.people["customer_admin"]).post(probes_url(site), body)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert ProbeRun.objects.count() == before


def test_probes_are_rate_limited_with_a_400(world, settings):
    settings.PROBE_RUNS_PER_SITE = 2
    site = world.sites[world.customer.slug]  # already has one run
    client = token_client(world.people["customer_admin"])
    assert client.post(probes_url(site), {"direction": "outbound"}).status_code == 201
    response = client.post(probes_url(site), {"direction": "outbound"})
    assert response.status_code == 400
    assert "probed many times" in response.json()["non_field_errors"][0]


def test_list_and_read_a_run_with_its_observations(world):
    site = world.sites[world.customer.slug]
    run = world.probe_runs[world.customer.slug]
    ProbeObservationFactory(run=run, port=4401, protocol="tcp", observed_ip="192.0.2.1")
    client = token_client(world.people["customer_viewer"])

    listed = client.get(probes_url(site)).json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    assert "observations" not in listed["results"][0]

    detail = client.get(f"{probes_url(site)}{run.pk}/").json()
    assert detail["id"] == run.pk
    assert detail["observations"] == [
        {
            "direction": "outbound",
            "protocol": "tcp",
            "port": 4401,
            "observed_ip": "192.0.2.1",
            "observed_port": 50123,
            "outcome": "ok",
            "detail": "",
            "received_at": detail["observations"][0]["received_at"],
        }
    ]


def test_a_finished_runs_token_is_not_shown(world):
    site = world.sites[world.customer.slug]
    run = world.probe_runs[world.customer.slug]
    ProbeRun.objects.filter(pk=run.pk).update(state="expired")
    detail = token_client(world.people["customer_admin"]).get(f"{probes_url(site)}{run.pk}/").json()
    assert detail["state"] == "expired" and detail["token"] is None
