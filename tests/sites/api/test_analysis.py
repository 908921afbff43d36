"""Configuration checks through the API: queued by ``request_analysis`` (202, secrets redacted,
audit event), read with the result in the shape of ``manage.py analyze --format json``; refusals
name their field; tenancy as for the site's other resources."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from portal.audit.models import AuditEvent
from sites.models import ConfigAnalysis, ConfigAnalysisInput
from sites.services import analysis as service
from tests.portal.api.helpers import token_client
from tests.sites.analyzer.test_adjusted import IPTABLES_MANGLE_DROP
from tests.sites.services.test_analysis import ASA_WITH_SECRETS, PARTIAL, iptables_site

pytestmark = pytest.mark.django_db


def checks_url(site) -> str:
    return f"/api/o/{site.organisation.slug}/sites/{site.pk}/analyses/"


def test_post_a_check_then_read_its_result_as_the_command_prints_it(world, tmp_path, capsys):
    person = world.people["customer_admin"]
    site = iptables_site(world.customer, monitoring=True)
    client = token_client(person)
    response = client.post(checks_url(site), {"vendor": "iptables", "config": PARTIAL})
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["state"] == "queued" and data["result"] is None and data["steps_in_place"] == []
    assert data["instruction_set"] == site.current_instruction_set.version
    event = AuditEvent.objects.get(action="analysis.requested", object_id=str(data["id"]))
    assert event.source == "api" and event.actor_user_id == person.pk

    service.run_analysis(analysis_id=data["id"])
    read = client.get(f"{checks_url(site)}{data['id']}/")
    assert read.status_code == 200
    body = read.json()
    assert body["state"] == "done" and body["line_count"] == len(PARTIAL.splitlines())

    # The same answer as `manage.py analyze --format json` for the same file and site.
    (tmp_path / "rules").write_text(PARTIAL)
    (tmp_path / "site.json").write_text(json.dumps(site.description))
    capsys.readouterr()
    call_command(
        "analyze",
        str(tmp_path / "rules"),
        vendor="iptables",
        site=str(tmp_path / "site.json"),
        format="json",
    )
    assert body["result"] == json.loads(capsys.readouterr().out)

    listed = client.get(checks_url(site)).json()
    assert [c["id"] for c in listed["results"]] == [data["id"]]
    assert "result" not in listed["results"][0]


def test_the_api_redacts_before_storing(world):
    site = world.sites[world.customer.slug]
    client = token_client(world.people["customer_admin"])
    response = client.post(checks_url(site), {"vendor": "cisco-asa", "config": ASA_WITH_SECRETS})
    assert response.status_code == 202 and response.json()["redacted_count"] == 3
    assert "8Ry2YjIyt7RRXU24" not in ConfigAnalysisInput.objects.get().text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "vendor"),
        ({"vendor": "sonicwall", "config": PARTIAL}, "vendor"),
        ({"vendor": "iptables"}, "config"),
        ({"vendor": "iptables", "config": ""}, "config"),
        ({"vendor": "iptables", "config": "-A FORWARD\n" * 100_001}, "config"),
        ({"vendor": "iptables", "config": "bad\u0000byte"}, "config"),
    ],
    ids=["nothing", "vendor", "no-config", "empty", "too-many-lines", "nul"],
)
def test_a_refused_check_names_its_field_and_queues_nothing(world, body, field):
    site = world.sites[world.customer.slug]
    response = token_client(world.people["customer_admin"]).post(checks_url(site), body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not ConfigAnalysis.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [("customer_viewer", 403), ("support", 403), ("operator", 403), ("reseller_admin", 202)],
)
def test_who_may_queue_a_check(world, role, status):
    site = world.sites[world.customer.slug]
    response = token_client(world.people[role]).post(
        checks_url(site), {"vendor": "iptables", "config": PARTIAL}
    )
    assert response.status_code == status
    readable = token_client(world.people[role]).get(checks_url(site))
    assert readable.status_code == 200


def test_another_tenants_check_is_a_404(world):
    theirs = world.sites[world.other_customer.slug]
    analysis = service.request_analysis(site=theirs, vendor="iptables", config=PARTIAL)
    client = token_client(world.people["customer_admin"])
    mine = world.sites[world.customer.slug]
    assert client.get(f"{checks_url(mine)}{analysis.pk}/").status_code == 404
    assert client.get(f"{checks_url(theirs)}{analysis.pk}/").status_code == 404


def test_a_body_over_the_upload_limit_is_a_400_not_a_500(world):
    site = world.sites[world.customer.slug]
    response = token_client(world.people["customer_admin"]).post(
        checks_url(site), {"vendor": "iptables", "config": "#" * 7_000_000}
    )
    assert response.status_code == 400
    assert not ConfigAnalysis.objects.exists()


def test_the_adjusted_steps_are_in_the_checks_detail(world):
    site = iptables_site(world.customer)
    client = token_client(world.people["customer_viewer"])
    analysis = service.request_analysis(site=site, vendor="iptables", config=IPTABLES_MANGLE_DROP)
    data = client.get(f"{checks_url(site)}{analysis.pk}/").json()
    assert data["adjusted_steps"] == []  # not done yet
    service.run_analysis(analysis_id=analysis.pk)
    (adjusted,) = client.get(f"{checks_url(site)}{analysis.pk}/").json()["adjusted_steps"]
    assert "*mangle" in adjusted["config"] and "Your rule at line 7" in adjusted["notes"]
