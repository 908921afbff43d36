"""The selectors views read through: each keeps to the actor's tenancy and the URL's organisation,
so another tenant's id selects nothing (or is a 404)."""

import pytest
from django.http import Http404, QueryDict

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from sites.models import ServiceProfile
from sites.selectors import (
    editable_customers,
    probe_run_for,
    profile_for,
    profiles_with_site_counts,
    recent_probe_runs,
    sites_for_export,
)
from sites.selectors.dashboard import filtered_sites, job_for, selected_sites


def actor(world, role) -> Actor:
    return Actor.for_user(world.people[role])


def test_a_selection_keeps_only_the_sites_the_page_covers(world):
    reseller = actor(world, Role.RESELLER_ADMIN)
    mine, theirs = world.sites["customer-one"], world.sites["customer-other"]
    chosen = selected_sites(reseller, world.reseller, [mine.pk, theirs.pk])
    assert list(chosen) == [mine]


def test_an_invalid_filter_selects_nothing(world):
    reseller = actor(world, Role.RESELLER_ADMIN)
    assert filtered_sites(reseller, world.reseller, QueryDict("vendor=fortigate")).count() == 2
    assert not filtered_sites(
        reseller, world.reseller, QueryDict("organisation=customer-other")
    ).exists()


def test_an_import_goes_only_to_customers_the_actor_may_edit(world):
    assert list(editable_customers(actor(world, Role.RESELLER_ADMIN), world.reseller)) == [
        world.customer,
        world.sibling_customer,
    ]
    assert not editable_customers(actor(world, Role.CUSTOMER_VIEWER), world.customer).exists()


def test_an_export_streams_the_given_sites_by_organisation_and_name(
    world, django_assert_num_queries
):
    sites = filtered_sites(actor(world, Role.SUPPORT), world.provider, QueryDict())
    expected = sorted((s.organisation.name, s.name) for s in world.sites.values())
    with django_assert_num_queries(1):
        assert [(s.organisation.name, s.name) for s in sites_for_export(sites)] == expected


def test_a_probe_run_of_another_site_is_a_404(world):
    site, other = world.sites["customer-one"], world.sites["customer-other"]
    assert (
        probe_run_for(site, world.probe_runs["customer-one"].pk) == world.probe_runs["customer-one"]
    )
    with pytest.raises(Http404):
        probe_run_for(site, world.probe_runs["customer-other"].pk)
    assert list(recent_probe_runs(other)) == [world.probe_runs["customer-other"]]


def test_a_job_of_another_organisation_is_a_404(world):
    job = world.jobs[world.provider.slug]
    assert job_for(world.provider, job.pk) == job
    with pytest.raises(Http404):
        job_for(world.reseller, job.pk)


def test_profiles_carry_how_many_sites_use_them(world):
    default = ServiceProfile.objects.default()
    assert profile_for(default.pk).site_count == len(world.sites)
    assert {p.pk: p.site_count for p in profiles_with_site_counts()}[default.pk] == len(world.sites)
    with pytest.raises(Http404):
        profile_for(default.pk + 1000)


def test_the_default_profile_is_only_read(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        ServiceProfile.objects.default()
    ServiceProfile.objects.update(is_default=False)
    with (
        django_assert_num_queries(1),
        pytest.raises(ServiceProfile.DoesNotExist, match="0003_guide"),
    ):
        ServiceProfile.objects.default()
    assert not ServiceProfile.objects.filter(is_default=True).exists()
