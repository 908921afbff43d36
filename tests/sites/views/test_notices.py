"""Notices on the home page: an organisation's admins dismiss them (audited); nobody else can,
and a notice of another organisation is a 404."""

import pytest

from portal.audit.models import AuditEvent
from sites.models import Notice

pytestmark = pytest.mark.django_db


def notice_of(organisation, subject="The service profile “Backup” changed") -> Notice:
    return Notice.objects.create(
        organisation=organisation,
        subject=subject,
        body="2 sites need a change on the firewall.",
        reason="New datacenter network",
    )


def dismiss_url(notice) -> str:
    return f"/o/{notice.organisation.slug}/notices/{notice.pk}/dismiss/"


def test_an_admin_dismisses_a_notice_and_the_home_page_stops_showing_it(world, client):
    notice = notice_of(world.customer)
    kept = notice_of(world.customer, subject="Another notice")
    client.force_login(world.people["customer_admin"])
    home = client.get(f"/o/{world.customer.slug}/").content.decode()
    assert notice.subject in home and dismiss_url(notice) in home

    response = client.post(dismiss_url(notice), follow=True)
    page = response.content.decode()
    assert f"Notice dismissed: {notice.subject}" in page
    assert "Another notice" in page and "2 sites need a change" in page  # the other stays
    notice.refresh_from_db()
    assert notice.dismissed_at is not None and notice.dismissed_by == world.people["customer_admin"]
    assert dismiss_url(notice) not in page and dismiss_url(kept) in page
    event = AuditEvent.objects.get(action="notice.dismissed")
    assert (
        event.organisation_id == world.customer.pk and event.actor_user_id == notice.dismissed_by.pk
    )

    first = notice.dismissed_at
    client.post(dismiss_url(notice))  # twice: nothing more happens
    notice.refresh_from_db()
    assert notice.dismissed_at == first
    assert AuditEvent.objects.filter(action="notice.dismissed").count() == 1


def test_a_reseller_admin_dismisses_its_own_notices(world, client):
    notice = notice_of(world.reseller)
    client.force_login(world.people["reseller_admin"])
    assert client.post(dismiss_url(notice)).status_code == 302
    notice.refresh_from_db()
    assert notice.dismissed_at is not None


@pytest.mark.parametrize(
    ("person", "status"),
    [("customer_viewer", 403), ("reseller_admin", 403), ("support", 403), ("operator", 403)],
)
def test_nobody_else_dismisses_a_customers_notice(world, client, person, status):
    notice = notice_of(world.customer)
    client.force_login(world.people[person])
    assert client.post(dismiss_url(notice)).status_code == status
    notice.refresh_from_db()
    assert notice.dismissed_at is None
    home = client.get(f"/o/{world.customer.slug}/")
    assert dismiss_url(notice) not in home.content.decode()


def test_a_notice_of_another_organisation_is_unknown(world, client):
    other = notice_of(world.other_customer)
    client.force_login(world.people["customer_admin"])
    url = f"/o/{world.customer.slug}/notices/{other.pk}/dismiss/"
    assert client.post(url).status_code == 404
    other.refresh_from_db()
    assert other.dismissed_at is None


def test_dismissing_is_a_post(world, client):
    notice = notice_of(world.customer)
    client.force_login(world.people["customer_admin"])
    assert client.get(dismiss_url(notice)).status_code == 405
