"""Sites whose proof is missing, stale or failing are flagged (sites.selectors.proof) for the
customer and the reseller."""

import pytest
from django.test import Client

from sites.models import ProbeRunState, Site
from sites.services.sites import update_site
from tests.factories import SiteFactory, site_description
from tests.sites.services.test_proof import flag, proven

pytestmark = pytest.mark.django_db


def test_a_new_site_is_unproven_then_fresh_once_proven():
    site = SiteFactory()
    assert flag(site) == "unproven"
    proven(site)
    assert flag(site) == ""


def test_a_proof_older_than_the_period_is_stale():
    site = SiteFactory(reverify="weekly")
    proven(site, days_ago=8)
    assert flag(site) == "stale"
    Site.objects.filter(pk=site.pk).update(reverify="off")
    assert flag(site) == ""


def test_a_new_public_address_makes_the_proof_stale():
    site = SiteFactory()
    proven(site)
    update_site(site=site, data=site_description(name=site.name, public_address="192.0.2.99"))
    assert flag(site) == "stale"


def test_a_failed_last_probe_is_flagged_failing():
    site = SiteFactory()
    proven(site, days_ago=1)
    proven(site, state=ProbeRunState.FAILED)
    assert flag(site) == "failing"


def test_the_reseller_sees_the_flags_of_its_clients_sites(world, django_assert_max_num_queries):
    proven(world.sites[world.customer.slug])
    client = Client()
    client.force_login(world.people["reseller_admin"])
    client.get(f"/o/{world.reseller.slug}/sites/")
    with django_assert_max_num_queries(12):
        body = client.get(f"/o/{world.reseller.slug}/sites/").content.decode()
    assert "Proven" in body and "Never proven" in body
    for n in range(20):  # more sites, same number of queries
        SiteFactory(organisation=world.sibling_customer, name=f"Branch {n}")
    with django_assert_max_num_queries(12):
        client.get(f"/o/{world.reseller.slug}/sites/")
