"""A person's grants are kept between requests and forgotten on any change (issue #14 point 10):
a revoked membership is refused on the very next request, a changed role or organisation is seen
at once. On Redis when REDIS_URL is set (as in production), else in this process's memory."""

import pytest
from django.conf import settings as django_settings
from django.http import Http404
from django.test import Client

from portal import settings as configured
from portal.accounts import actor_cache
from portal.accounts.models import Membership, Role
from portal.accounts.permissions import Actor
from portal.accounts.selectors import organisation_for
from portal.accounts.services import add_membership, update_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def actors_cache(settings):
    """The production cache where there is one (Redis), else one in memory: never the dummy."""
    if not django_settings.REDIS_URL:
        settings.CACHES = {
            **settings.CACHES,
            "actors": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        }


def signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_grants_come_from_the_cache_after_the_first_request(world, django_assert_num_queries):
    person = world.people[Role.CUSTOMER_ADMIN]
    first = Actor.for_user(person)
    with django_assert_num_queries(0):
        again = Actor.for_user(person)
    assert again.grants == first.grants and again.grants


def test_a_revoked_membership_is_refused_on_the_very_next_request(world):
    person = world.people[Role.CUSTOMER_ADMIN]
    client = signed_in(person)
    page = f"/o/{world.customer.slug}/sites/"
    assert client.get(page).status_code == 200
    Membership.objects.get(user=person, organisation=world.customer).delete()
    assert client.get(page).status_code == 404


def test_a_changed_role_is_seen_on_the_next_request(world):
    person = world.people[Role.CUSTOMER_ADMIN]
    client = signed_in(person)
    settings_page = f"/o/{world.customer.slug}/settings/"
    assert client.get(settings_page).status_code == 200
    add_membership(organisation=world.customer, user=person, role=Role.CUSTOMER_VIEWER)
    assert client.get(settings_page).status_code == 403


def test_a_renamed_organisation_is_seen_in_every_grant(world):
    person = world.people[Role.CUSTOMER_VIEWER]
    Actor.for_user(person)
    update_organisation(organisation=world.customer, name="Renamed Ltd", contact_email="")
    [grant] = Actor.for_user(person).grants
    assert grant.organisation_name == "Renamed Ltd"


def test_an_entry_read_during_a_change_is_not_used_afterwards(world):
    """A request that loaded the old rows while the membership was revoked keeps them under the
    token it read first: the next request does not trust them."""
    person = world.people[Role.CUSTOMER_ADMIN]
    old = Actor.for_user(person).grants
    actor_cache._renew(actor_cache._person_key(person.pk))  # so the next call loads

    def load_then_revoked():
        Membership.objects.filter(user=person).delete()  # while this request was loading
        return old

    assert actor_cache.cached_grants(person.pk, load_then_revoked)[0] == old
    assert Actor.for_user(person).grants == ()


def test_an_organisation_is_looked_up_without_a_query_while_none_changes(
    world, django_assert_num_queries
):
    person = world.people[Role.RESELLER_ADMIN]
    first = organisation_for(Actor.for_user(person), world.customer.slug)
    actor = Actor.for_user(person)
    with django_assert_num_queries(0):
        again = organisation_for(actor, world.customer.slug)
    assert again == first and again.parent == world.reseller
    again.name = "Changed in one request only"  # each request gets its own copy
    assert organisation_for(Actor.for_user(person), world.customer.slug).name == "Customer One"


def test_a_changed_organisation_is_seen_on_the_next_request(world):
    person = world.people[Role.CUSTOMER_ADMIN]
    client = signed_in(person)
    page = f"/o/{world.customer.slug}/sites/"
    assert client.get(page).status_code == 200
    update_organisation(organisation=world.customer, name="Renamed Ltd", contact_email="")
    assert "Renamed Ltd" in client.get(page).content.decode()


def test_a_cached_organisation_is_still_scoped_to_the_person(world):
    """The row is kept once per process; who may see it is decided on every request."""
    reseller_admin = world.people[Role.RESELLER_ADMIN]
    organisation_for(Actor.for_user(world.people[Role.SUPPORT]), world.other_customer.slug)
    with pytest.raises(Http404):
        organisation_for(Actor.for_user(reseller_admin), world.other_customer.slug)
    assert (
        signed_in(reseller_admin).get(f"/o/{world.other_customer.slug}/sites/").status_code == 404
    )
    with pytest.raises(Http404):
        organisation_for(Actor.for_user(reseller_admin), "no-such-organisation")


def test_a_moved_organisation_leaves_its_old_reseller_at_once(world):
    """A client moved to another reseller: its former reseller's admin is refused next time."""
    person = world.people[Role.RESELLER_ADMIN]
    client = signed_in(person)
    page = f"/o/{world.customer.slug}/sites/"
    assert client.get(page).status_code == 200
    world.customer.parent = world.other_reseller
    world.customer.save(update_fields=["parent"])
    assert client.get(page).status_code == 404


def test_the_production_shape_caches_sessions_and_grants_in_redis():
    """As configured (portal/settings.py), before this module's fixture changes anything."""
    if not configured.REDIS_URL:
        assert configured.CACHES["actors"]["BACKEND"].endswith("DummyCache")
        assert not hasattr(configured, "SESSION_ENGINE")  # Django's default: the database
        return
    assert configured.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    for alias in ("sessions", "actors"):
        assert configured.CACHES[alias]["BACKEND"].endswith("RedisCache")
