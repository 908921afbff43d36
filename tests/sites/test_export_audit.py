"""A download of sites is an audit event like a download of the trail (issue #14 point 9):
``sites.exported`` names who, for which organisation, the filter or selection, and the row count."""

import pytest
from django.test import Client

from portal.accounts.models import Role
from portal.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="sites.exported").order_by("id"))


def test_the_filtered_export_is_recorded_with_its_filter_and_row_count(world):
    client = Client()
    client.force_login(world.people[Role.RESELLER_ADMIN])
    response = client.get(
        f"/o/{world.reseller.slug}/sites/export/",
        {"format": "json", "organisation": world.customer.slug, "q": ""},
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = exports()
    assert event.organisation_id == world.reseller.pk
    assert event.actor_label == world.people[Role.RESELLER_ADMIN].username
    assert event.source == "web"
    assert event.after == {
        "format": "json",
        "filters": {"organisation": world.customer.slug},
        "rows": 1,
    }


def test_the_bulk_export_of_a_selection_is_recorded(world):
    site = world.sites[world.customer.slug]
    client = Client()
    client.force_login(world.people[Role.CUSTOMER_VIEWER])
    response = client.post(
        f"/o/{world.customer.slug}/sites/bulk/", {"action": "export_csv", "site": [site.pk]}
    )
    assert response.status_code == 200
    [event] = exports()
    assert event.organisation_id == world.customer.pk
    assert event.after == {"format": "csv", "filters": {"site": str(site.pk)}, "rows": 1}


def test_a_refused_format_is_not_recorded(world):
    client = Client()
    client.force_login(world.people[Role.CUSTOMER_ADMIN])
    response = client.get(f"/o/{world.customer.slug}/sites/export/", {"format": "xlsx"})
    assert response.status_code == 400
    assert exports() == []
