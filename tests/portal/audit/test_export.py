"""Exporting a search as CSV and JSON: same filters, same scope, streamed, and itself audited."""

import csv
import io
import json

import pytest
from django.utils import timezone

from portal.accounts.models import Role
from portal.audit.export import COLUMNS
from portal.audit.models import AuditEvent
from tests.portal.audit.helpers import aware, client_for, make_event

pytestmark = pytest.mark.django_db


def export_url(organisation, fmt) -> str:
    return f"/o/{organisation.slug}/audit/export.{fmt}"


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def support(world):
    return client_for(world.people[Role.SUPPORT])


@pytest.fixture
def events(world):
    return [
        make_event(
            organisation=world.customer,
            action="site.updated",
            source="web",
            actor_label="acme",
            object_type="sites.site",
            object_id="7",
            object_repr="Main office",
            request_id="req-1",
            ip_address="198.51.100.20",
            before={"name": "HQ"},
            after={"name": "Main office"},
            at=aware(2025, 3, 10, 8, 30),
        ),
        make_event(
            organisation=world.customer,
            action="probe.proven",
            source="worker",
            at=aware(2025, 3, 11),
        ),
        make_event(organisation=world.other_customer, action="site.updated", source="web"),
    ]


def test_csv_export_has_headers_and_the_filtered_rows(world, support, events):
    response = support.get(
        export_url(world.provider, "csv"),
        {"action": "site.updated", "organisation": world.customer.slug},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="audit-{world.provider.slug}-{today}.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == COLUMNS
    assert row["occurred_at"] == "2025-03-10T08:30:00+00:00"
    assert row["organisation"] == world.customer.name
    assert row["actor"] == "acme"
    assert row["action"] == "site.updated"
    assert row["object"] == "Main office"
    assert row["request_id"] == "req-1"
    assert row["ip_address"] == "198.51.100.20"
    assert json.loads(row["before"]) == {"name": "HQ"}
    assert json.loads(row["after"]) == {"name": "Main office"}


def test_json_export_is_the_same_search(world, support, events):
    response = support.get(
        export_url(world.provider, "json"),
        {"organisation": world.customer.slug, "date_to": "2025-03-10"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].endswith(f'-{timezone.localdate():%Y-%m-%d}.json"')
    data = json.loads(body(response))
    assert data["organisation"] == world.provider.slug
    assert data["filters"] == {"organisation": world.customer.slug, "date_to": "2025-03-10"}
    assert data["rows"] == 1 == len(data["events"])
    event = data["events"][0]
    assert list(event) == COLUMNS
    assert event["after"] == {"name": "Main office"}
    assert event["source"] == "web"


def test_newest_first_like_the_page(world, support, events):
    response = support.get(
        export_url(world.provider, "json"), {"organisation": world.customer.slug}
    )
    data = json.loads(body(response))
    stamps = [e["occurred_at"] for e in data["events"]]
    assert stamps == sorted(stamps, reverse=True)


def test_the_export_is_recorded_with_filters_and_row_count(world, support, events):
    body(support.get(export_url(world.provider, "csv"), {"action": "site.*", "source": "web"}))
    recorded = AuditEvent.objects.get(action="audit.exported")
    assert recorded.actor_user_id == world.people[Role.SUPPORT].pk
    assert recorded.organisation_id == world.provider.pk
    assert recorded.source == "web" and recorded.request_id
    assert recorded.after == {
        "format": "csv",
        "filters": {"action": "site.*", "source": "web"},
        "rows": 2,
    }


def test_the_export_does_not_contain_its_own_event(world, support, events):
    data = json.loads(body(support.get(export_url(world.provider, "json"))))
    assert "audit.exported" not in {e["action"] for e in data["events"]}
    assert data["rows"] == len(data["events"])
    again = json.loads(body(support.get(export_url(world.provider, "json"))))
    assert again["rows"] == data["rows"] + 1  # now the first export is part of the trail


def test_the_export_keeps_to_the_scope(world, events):
    client = client_for(world.people[Role.RESELLER_ADMIN])
    data = json.loads(body(client.get(export_url(world.reseller, "json"))))
    organisations = {e["organisation"] for e in data["events"]}
    assert world.other_customer.name not in organisations
    assert world.customer.name in organisations
    response = client.get(
        export_url(world.reseller, "json"), {"organisation": world.other_customer.slug}
    )
    assert response.status_code == 422
    assert client.get(export_url(world.other_reseller, "csv")).status_code == 404


def test_a_bad_filter_exports_nothing_and_records_nothing(world, support, events):
    response = support.get(export_url(world.provider, "csv"), {"date_from": "10/03/2025"})
    assert response.status_code == 422
    assert not response.streaming
    assert "From: Enter a valid date." in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_csv_cells_cannot_run_as_spreadsheet_formulas(world, support):
    make_event(
        organisation=world.customer, action="auth.login_failed", actor_label='=HYPERLINK("x")'
    )
    response = support.get(export_url(world.provider, "csv"), {"action": "auth.login_failed"})
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert rows[0]["actor"] == '\'=HYPERLINK("x")'


def test_the_search_page_links_to_the_exports_with_its_filters(world, support, events):
    response = support.get(
        f"/o/{world.provider.slug}/audit/", {"action": "site.updated", "person": ""}
    )
    html = response.content.decode()
    assert f'href="/o/{world.provider.slug}/audit/export.csv?action=site.updated"' in html
    assert f'href="/o/{world.provider.slug}/audit/export.json?action=site.updated"' in html


@pytest.mark.parametrize("count", [10, 200])
def test_export_query_count_does_not_grow_with_events(
    world, support, django_assert_max_num_queries, count
):
    for n in range(count):
        make_event(organisation=world.customer, action="site.updated", after={"n": n})
    support.get(f"/o/{world.provider.slug}/audit/")
    with django_assert_max_num_queries(10):
        content = body(support.get(export_url(world.provider, "csv"), {"action": "site.updated"}))
    assert content.count("\n") == count + 1
