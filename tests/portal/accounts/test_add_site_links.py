"""Every home that may add a site offers it; a reseller chooses the client first (#13 point 11)."""

from django.urls import reverse

from portal.accounts.models import Role
from tests.portal.audit.helpers import client_for


def test_customer_admin_home_offers_add_a_site(world):
    page = client_for(world.people[Role.CUSTOMER_ADMIN]).get(f"/o/{world.customer.slug}/")
    assert f'href="{reverse("site-create", args=[world.customer.slug])}">Add a site<' in (
        page.content.decode()
    )


def test_customer_viewer_home_does_not(world):
    page = client_for(world.people[Role.CUSTOMER_VIEWER]).get(f"/o/{world.customer.slug}/")
    assert "Add a site" not in page.content.decode()


def test_reseller_adds_a_site_by_choosing_the_client(world):
    client = client_for(world.people[Role.RESELLER_ADMIN])
    home = client.get(f"/o/{world.reseller.slug}/").content.decode()
    clients_url = reverse("client-list", args=[world.reseller.slug])
    assert f'href="{clients_url}#add-site">Add a site<' in home

    all_sites = client.get(f"/o/{world.reseller.slug}/sites/").content.decode()
    assert f'href="{clients_url}#add-site">New site<' in all_sites  # beside Import

    listing = client.get(clients_url).content.decode()
    assert 'id="add-site"' in listing and "choose the client it belongs to" in listing
    create_url = reverse("site-create", args=[world.customer.slug])
    assert f'href="{create_url}"' in listing
    assert client.get(create_url).status_code == 200


def test_provider_staff_are_not_offered_to_add_sites(world):
    client = client_for(world.people[Role.SUPPORT])
    for path in (f"/o/{world.provider.slug}/", f"/o/{world.provider.slug}/clients/"):
        assert "Add a site" not in client.get(path).content.decode()
