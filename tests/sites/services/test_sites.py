"""Creating and editing sites: every bad field is named, and nothing is saved."""

import pytest

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.models import Site
from sites.services.sites import create_site, update_site
from tests.factories import CustomerFactory, ResellerFactory, site_description

pytestmark = pytest.mark.django_db


def test_create_site_stores_the_description_and_one_event():
    customer = CustomerFactory()
    site = create_site(organisation=customer, data=site_description(name="Branch"))
    assert site.vendor == "fortigate" and site.public_address == "192.0.2.1"
    assert site.description["host_address"] == "192.168.1.10"
    assert site.profile.is_default
    assert AuditEvent.objects.filter(action="site.created", object_id=str(site.pk)).count() == 1


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"lan_network": "192.168.1.0/33"}, {"lan_network"}),
        ({"host_address": "10.0.0.5"}, {"host_address"}),
        ({"vendor": "acme"}, {"vendor"}),
        ({"name": ""}, {"name"}),
        (
            {
                "host_addressing": "range",
                "host_range_start": "192.168.1.20",
                "host_range_end": "192.168.1.10",
            },
            {"host_range_end"},
        ),
        (
            {"monitoring_enabled": True, "monitoring_sources": ["not-an-address"]},
            {"monitoring_sources.0"},
        ),
    ],
)
def test_bad_descriptions_name_their_fields_and_save_nothing(overrides, fields):
    customer = CustomerFactory()
    before = (Site.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ServiceError) as error:
        create_site(organisation=customer, data=site_description(**overrides))
    assert fields <= set(error.value.errors), error.value.errors
    assert (Site.objects.count(), AuditEvent.objects.count()) == before


def test_site_names_are_unique_within_an_organisation():
    customer = CustomerFactory()
    create_site(organisation=customer, data=site_description(name="HQ"))
    with pytest.raises(ServiceError) as error:
        create_site(organisation=customer, data=site_description(name="hq"))
    assert "name" in error.value.errors
    create_site(
        organisation=CustomerFactory(), data=site_description(name="HQ")
    )  # another org: fine


def test_sites_belong_to_customers_only():
    with pytest.raises(ServiceError) as error:
        create_site(organisation=ResellerFactory(), data=site_description())
    assert "organisation" in error.value.errors


def test_update_without_changes_writes_nothing():
    site = create_site(organisation=CustomerFactory(), data=site_description(name="HQ"))
    update_site(site=site, data=site_description(name="HQ"))
    assert not AuditEvent.objects.filter(action="site.updated").exists()
    update_site(site=site, data=site_description(name="HQ", public_address=None))
    site.refresh_from_db()
    assert site.public_address is None
    event = AuditEvent.objects.get(action="site.updated")
    assert event.before["public_address"] == "192.0.2.1" and event.after["public_address"] is None
