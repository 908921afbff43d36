"""The lifecycle pages: monitoring access on the site page (its end date, recertification,
removal), decommissioning, the complete configuration of a plan, and the dashboard's "expiring"
flag. Bad input answers 422 naming the field and changes nothing."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.audit.models import AuditEvent
from sites.models import Lifecycle, PlanKind, Site
from tests.sites.services.test_lifecycle import MONITORED, edit, finish, iptables_site


def signed_in(world, role="customer_admin") -> Client:
    client = Client()
    client.force_login(world.people[role])
    return client


def site_url(world, site, tail="") -> str:
    return f"/o/{world.customer.slug}/sites/{site.pk}/{tail}"


@pytest.fixture
def monitored(world) -> Site:
    site = iptables_site(world, **MONITORED)
    finish(site)
    return site


@pytest.mark.django_db
def test_the_site_page_shows_the_access_and_its_actions_to_admins_only(world, monitored):
    ends = monitored.monitoring_expires_on.isoformat()
    page = signed_in(world).get(site_url(world, monitored)).content.decode()
    assert 'id="monitoring-access"' in page and ends in page
    assert "Recertify for 12 months" in page and "Remove monitoring access" in page
    assert "Decommission this site" in page
    viewer = signed_in(world, "customer_viewer").get(site_url(world, monitored)).content.decode()
    assert ends in viewer and "Recertify for" not in viewer and "Decommission" not in viewer


@pytest.mark.django_db
def test_recertifying_needs_a_reason_and_moves_the_date(world, monitored):
    client = signed_in(world)
    before = monitored.monitoring_expires_on
    refused = client.post(site_url(world, monitored, "monitoring/"), {"action": "recertify"})
    assert refused.status_code == 422 and b"Still needed because: Say why" in refused.content
    monitored.refresh_from_db()
    assert monitored.monitoring_expires_on == before
    Site.objects.filter(pk=monitored.pk).update(monitoring_expires_on=date.today() + timedelta(5))
    done = client.post(
        site_url(world, monitored, "monitoring/"), {"action": "recertify", "reason": "Still used"}
    )
    assert done.status_code == 302 and done["Location"].endswith("#monitoring-access")
    monitored.refresh_from_db()
    assert monitored.monitoring_expires_on > date.today() + timedelta(days=300)
    assert AuditEvent.objects.filter(action="site.monitoring_recertified").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2001-01-01", b"Ends on: Choose a date after today."),
        ("next year", b"Ends on: Enter a date as YYYY-MM-DD."),
        ("2999-01-01", b"at the latest"),
    ],
)
def test_a_bad_end_date_is_refused_naming_the_field(world, monitored, value, words):
    response = signed_in(world).post(
        site_url(world, monitored, "monitoring/"), {"action": "expiry", "expires_on": value}
    )
    assert response.status_code == 422 and words in response.content
    assert (
        Site.objects.get(pk=monitored.pk).monitoring_expires_on == monitored.monitoring_expires_on
    )


@pytest.mark.django_db
def test_removing_monitoring_asks_for_confirmation_then_shows_the_removal(world, monitored):
    client = signed_in(world)
    url = site_url(world, monitored, "monitoring/remove/")
    assert b"removal plan" in client.get(url).content
    refused = client.post(url, {"reason": "done"})
    assert refused.status_code == 422 and b"Tick the box" in refused.content
    assert Site.objects.get(pk=monitored.pk).current_instruction_set.version == 1
    assert client.post(url, {"reason": "done", "confirm": "yes"}).status_code == 302
    page = client.get(site_url(world, monitored)).content.decode()
    assert "Removal needed:" in page and "Prove monitoring is closed" in page
    assert 'value="closure"' in page and "Why:</strong> done" in page


@pytest.mark.django_db
def test_decommissioning_from_its_page(world, monitored):
    client = signed_in(world)
    url = site_url(world, monitored, "decommission/")
    assert client.post(url, {}).status_code == 422
    assert client.post(url, {"confirm": "yes", "reason": "Office closed"}).status_code == 302
    monitored.refresh_from_db()
    assert monitored.lifecycle == Lifecycle.DECOMMISSIONING
    page = client.get(site_url(world, monitored)).content.decode()
    assert "Being decommissioned" in page and "Edit site" not in page
    assert client.post(url, {"confirm": "yes"}).status_code == 422  # nothing more to remove


@pytest.mark.django_db
def test_the_complete_configuration_of_a_change_plan(world):
    site = iptables_site(world)
    finish(site)
    site = edit(site, host_address="192.168.1.20")
    assert site.current_instruction_set.kind == PlanKind.CHANGE
    client = signed_in(world, "customer_viewer")
    page = client.get(site_url(world, site)).content.decode()
    assert "Change needed:" in page and "The complete configuration" in page
    complete = client.get(site_url(world, site, "complete/")).content.decode()
    assert "192.168.1.20" in complete and "192.168.1.10" not in complete


@pytest.mark.django_db
def test_the_dashboard_flags_and_filters_expiring_access(world, monitored):
    client = signed_in(world, "reseller_admin")
    url = f"/o/{world.reseller.slug}/sites/"
    assert monitored.name not in client.get(url, {"flag": "expiring"}).content.decode()
    soon = timezone.localdate() + timedelta(days=20)
    Site.objects.filter(pk=monitored.pk).update(monitoring_expires_on=soon)
    listed = client.get(url, {"flag": "expiring"}).content.decode()
    assert monitored.name in listed and f"Monitoring access ends {soon.isoformat()}" in listed
    assert world.sites[world.customer.slug].name not in listed
    assert "Monitoring access expiring" in client.get(url).content.decode()  # the headline
