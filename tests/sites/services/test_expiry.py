"""Monitoring access expires unless recertified: its first date, the 30- and 7-day reminders
(once each), the removal plan on the day, recertification and the customer's own date, with
the clock moved by time-machine."""

from datetime import date, datetime

import pytest
import time_machine
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.models import PlanKind, Site
from sites.selectors.lifecycle import add_months
from sites.services import expiry
from sites.services.instructions import regenerate_site
from sites.services.reverification import recipients
from tests.factories import SiteFactory, site_description

START = datetime(2027, 1, 10, 9, 0, tzinfo=timezone.get_default_timezone())


def at(day: date):
    """The clock at noon of ``day`` (local time), ticking."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 12, 0, tzinfo=timezone.get_default_timezone())
    )


def monitored_site(world, vendor="iptables") -> Site:
    """A site monitored from outside, with a Linux host, on iptables (instructions with markers,
    so its removal can be planned) unless ``vendor`` says otherwise."""
    site = SiteFactory(
        organisation=world.customer,
        name="Harbour office",
        vendor=vendor,
        description=site_description(
            name="Harbour office",
            vendor=vendor,
            host_os="linux",
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.7"],
        ),
    )
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def events(site: Site, action: str):
    return AuditEvent.objects.filter(action=action, object_id=str(site.pk)).order_by("pk")


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run(day: date):
        with at(day), django_capture_on_commit_callbacks(execute=True):
            return expiry.remind_and_expire()

    return run


def test_months_are_calendar_months_clamped_to_the_end_of_a_short_month():
    assert add_months(date(2027, 1, 10), 12) == date(2028, 1, 10)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)


@pytest.mark.django_db
def test_access_starts_with_the_profiles_period_and_goes_with_monitoring(world):
    with at(START.date()):
        site = monitored_site(world)
    assert site.monitoring_expires_on == date(2028, 1, 10)
    assert events(site, "site.monitoring_access_started").get().after == {
        "expires_on": "2028-01-10"
    }
    plain = SiteFactory(organisation=world.customer)
    regenerate_site(site_id=plain.pk)
    plain.refresh_from_db()
    assert plain.monitoring_expires_on is None


@pytest.mark.django_db
def test_reminders_at_30_and_7_days_once_each_then_the_removal_plan_opens(world, mailoutbox, sweep):
    with at(START.date()):
        site = monitored_site(world)
    people = set(recipients(site))
    assert world.people["customer_admin"].email in people
    assert world.people["reseller_admin"].email in people

    assert sweep(date(2027, 12, 10)) == {"30": 0, "7": 0, "expired": 0}  # 31 days left
    assert sweep(date(2027, 12, 11)) == {"30": 1, "7": 0, "expired": 0}
    [first] = mailoutbox
    assert set(first.to) == people
    assert "30 days" in first.subject and site.name in first.subject
    assert "2028-01-10" in first.body and f"/sites/{site.pk}/#monitoring-access" in first.body
    assert sweep(date(2027, 12, 12))["30"] == 0  # told already
    assert sweep(date(2028, 1, 3)) == {"30": 0, "7": 1, "expired": 0}
    assert "7 days" in mailoutbox[1].subject
    assert sweep(date(2028, 1, 4))["7"] == 0
    assert len(mailoutbox) == 2
    assert [e.after["reminded"] for e in events(site, "site.monitoring_reminded")] == ["30", "7"]

    assert sweep(date(2028, 1, 10)) == {"30": 0, "7": 0, "expired": 1}
    site.refresh_from_db()
    current = site.current_instruction_set
    assert current.kind == PlanKind.REMOVAL and current.removal_scope == "monitoring"
    assert "expired on 2028-01-10" in current.reason
    assert site.as_description().monitoring_enabled is False
    assert site.monitoring_expires_on is None
    assert events(site, "site.monitoring_expired").get().after["expires_on"] == "2028-01-10"
    opened = events(site, "site.monitoring_removal_opened").get()
    assert opened.before["expires_on"] == "2028-01-10" and opened.actor_user_id is None
    assert sweep(date(2028, 1, 11)) == {"30": 0, "7": 0, "expired": 0}  # nothing left to expire
    assert site.instruction_sets.count() == 2


@pytest.mark.django_db
def test_a_site_given_access_a_few_days_before_its_end_gets_only_the_7_day_reminder(
    world, mailoutbox, sweep
):
    with at(START.date()):
        site = monitored_site(world)
    Site.objects.filter(pk=site.pk).update(monitoring_expires_on=date(2027, 2, 1))
    assert sweep(date(2027, 1, 28)) == {"30": 0, "7": 1, "expired": 0}
    assert sweep(date(2027, 1, 29)) == {"30": 0, "7": 0, "expired": 0}
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_recertifying_extends_by_the_profiles_period_from_today_with_a_reason(
    world, mailoutbox, sweep
):
    with at(START.date()):
        site = monitored_site(world)
    sweep(date(2027, 12, 11))  # the 30-day reminder
    admin = world.people["customer_admin"]
    with at(date(2027, 12, 20)):
        with pytest.raises(ServiceError) as refused:
            expiry.recertify_monitoring(site=site, reason="   ", by=admin)
        assert refused.value.field == "reason"
        expiry.recertify_monitoring(site=site, reason="Still monitored by the MSP", by=admin)
    site.refresh_from_db()
    assert site.monitoring_expires_on == date(2028, 12, 20)
    assert site.monitoring_reminded == ""  # the reminders start again for the new date
    event = events(site, "site.monitoring_recertified").get()
    assert event.before == {"expires_on": "2028-01-10"}
    assert event.after == {"expires_on": "2028-12-20", "reason": "Still monitored by the MSP"}
    assert event.actor_user_id == admin.pk

    assert sweep(date(2028, 1, 10))["expired"] == 0  # recertified: nothing removed
    site.refresh_from_db()
    assert site.current_instruction_set.kind == PlanKind.COMPLETE
    assert sweep(date(2028, 11, 20))["30"] == 1  # the new date's reminder


@pytest.mark.django_db
def test_the_customer_chooses_a_date_from_tomorrow_to_the_profiles_maximum(world):
    with at(START.date()):
        site = monitored_site(world)
        admin = world.people["customer_admin"]
        for bad, words in (
            (date(2027, 1, 10), "after today"),
            (date(2026, 5, 1), "after today"),
            (date(2028, 1, 11), "until 2028-01-10 at the latest"),
        ):
            with pytest.raises(ServiceError) as refused:
                expiry.set_monitoring_expiry(site=site, expires_on=bad, by=admin)
            assert refused.value.field == "expires_on" and words in refused.value.message
        site.refresh_from_db()
        assert site.monitoring_expires_on == date(2028, 1, 10)  # nothing changed
        assert not events(site, "site.monitoring_expiry_changed").exists()
        expiry.set_monitoring_expiry(site=site, expires_on=date(2027, 6, 30), by=admin)
    site.refresh_from_db()
    assert site.monitoring_expires_on == date(2027, 6, 30)
    event = events(site, "site.monitoring_expiry_changed").get()
    assert (event.before, event.after) == (
        {"expires_on": "2028-01-10"},
        {"expires_on": "2027-06-30"},
    )


@pytest.mark.django_db
def test_a_site_without_monitoring_has_no_access_to_renew(world):
    site = SiteFactory(organisation=world.customer)
    regenerate_site(site_id=site.pk)
    with pytest.raises(ServiceError, match="monitoring is off"):
        expiry.recertify_monitoring(site=site, reason="why not")


@pytest.mark.django_db
def test_an_expiry_whose_removal_cannot_be_planned_tells_the_people_to_remove_it_by_hand(
    world, mailoutbox, sweep, unplannable_vendor
):
    with at(START.date()):
        site = monitored_site(world, vendor=unplannable_vendor)
    assert sweep(date(2028, 1, 10))["expired"] == 1
    site.refresh_from_db()
    assert site.current_instruction_set.kind == PlanKind.COMPLETE  # nothing opened
    assert site.monitoring_reminded == "expired"
    [mail] = mailoutbox
    assert "remove its port-forward" in mail.subject and "markers" in mail.body
    assert events(site, "site.monitoring_removal_unavailable").count() == 1
    assert sweep(date(2028, 1, 11))["expired"] == 0  # told once
