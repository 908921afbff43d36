"""The permission module's decisions, role by role (the URL walk checks the views obey them)."""

import pytest

from portal.accounts import permissions
from portal.accounts.permissions import Actor
from portal.accounts.selectors import visible_organisations

pytestmark = pytest.mark.django_db


def actor(world, role):
    return Actor.for_user(world.people[role])


def visible_slugs(world, role):
    return set(visible_organisations(actor(world, role)).values_list("slug", flat=True))


def test_customer_roles_see_only_their_organisation(world):
    for role in ("customer_admin", "customer_viewer"):
        assert visible_slugs(world, role) == {world.customer.slug}


def test_reseller_sees_itself_and_its_clients_only(world):
    assert visible_slugs(world, "reseller_admin") == {
        world.reseller.slug,
        world.customer.slug,
        world.sibling_customer.slug,
    }


def test_provider_staff_see_everything(world):
    everything = {o.slug for o in world.organisations}
    assert visible_slugs(world, "support") == everything
    assert visible_slugs(world, "operator") == everything


def test_support_changes_nothing(world):
    support = actor(world, "support")
    for organisation in world.organisations:
        assert not permissions.can_manage_organisation(support, organisation)
        assert not permissions.can_edit_sites(support, organisation)
        assert not permissions.can_create_client_organisation(support, organisation)
        assert not permissions.can_run_system_checks(support, organisation)
        assert permissions.can_read_audit(support, organisation)
        assert permissions.is_read_only(support, organisation)


def test_customer_viewer_reads_but_does_not_edit(world):
    viewer = actor(world, "customer_viewer")
    assert permissions.can_view_organisation(viewer, world.customer)
    assert not permissions.can_edit_sites(viewer, world.customer)
    assert not permissions.can_read_audit(viewer, world.customer)
    assert permissions.is_read_only(viewer, world.customer)


def test_reseller_edits_its_clients_sites_but_not_another_resellers(world):
    reseller = actor(world, "reseller_admin")
    assert permissions.can_edit_sites(reseller, world.customer)
    assert permissions.can_edit_sites(reseller, world.sibling_customer)
    assert not permissions.can_edit_sites(reseller, world.other_customer)
    assert permissions.can_create_client_organisation(reseller, world.reseller)
    assert not permissions.can_create_client_organisation(reseller, world.other_reseller)


def test_only_operators_run_system_checks_and_only_from_the_provider(world):
    operator = actor(world, "operator")
    assert permissions.can_run_system_checks(operator, world.provider)
    assert not permissions.can_run_system_checks(operator, world.customer)
    assert not permissions.can_run_system_checks(actor(world, "reseller_admin"), world.provider)


def test_a_deactivated_person_has_no_grants(world):
    user = world.people["customer_admin"]
    user.is_active = False
    user.save()
    assert not permissions.can_view_organisation(Actor.for_user(user), world.customer)
