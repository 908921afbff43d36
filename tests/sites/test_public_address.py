"""A site's public address is refused where the inbound probe would refuse it, with the reason
(issue #14 point 9). Outside labs (SITE_ALLOW_LAB_ADDRESSES off, as in production) every address
but a public unicast one is refused; the lab setting lets loopback, private, shared and
documentation addresses through, never link-local, multicast or reserved ones. A description read
back from storage is not judged again."""

import pytest
from django.test import Client

from sites.description import DescriptionError, SiteDescription
from sites.models import Site
from sites.services.transfer import check_import
from tests.factories import site_description
from tests.portal.api.helpers import token_client

REFUSED_EVERYWHERE = {
    "169.254.10.1": "link-local",
    "224.0.0.5": "multicast",
    "240.0.0.1": "reserved",
    "0.0.0.0": "unspecified",
    "255.255.255.255": "broadcast",
}
REFUSED_OUTSIDE_LABS = {
    "127.0.0.1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.9": "private",
    "100.64.0.1": "carrier-grade NAT",
    "192.0.2.1": "documentation",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
}


def problems(address: str, *, allow_private: bool | None) -> list[str]:
    data = site_description(public_address=address, lan_network="192.168.77.0/24")
    data.update(lan_gateway="192.168.77.1", host_address="192.168.77.10")
    try:
        SiteDescription.from_dict(data, allow_private=allow_private)
    except DescriptionError as error:
        return error.errors.get("public_address", [])
    return []


@pytest.mark.parametrize(
    ("address", "reason"), {**REFUSED_EVERYWHERE, **REFUSED_OUTSIDE_LABS}.items()
)
def test_outside_labs_only_a_public_address_is_accepted(address, reason):
    [message] = problems(address, allow_private=False)
    assert address in message and reason in message


@pytest.mark.parametrize(("address", "reason"), REFUSED_EVERYWHERE.items())
def test_the_lab_setting_never_lets_these_through(address, reason):
    [message] = problems(address, allow_private=True)
    assert reason in message


@pytest.mark.parametrize("address", REFUSED_OUTSIDE_LABS)
def test_the_lab_setting_lets_lab_addresses_through(address):
    assert problems(address, allow_private=True) == []


@pytest.mark.parametrize("address", ["8.8.8.8", "81.2.69.160"])
def test_a_public_address_is_accepted(address):
    assert problems(address, allow_private=False) == []


def test_a_stored_description_is_not_judged_again():
    assert problems("192.0.2.1", allow_private=None) == []
    assert problems("224.0.0.5", allow_private=None) == []


@pytest.fixture
def production(settings):
    settings.SITE_ALLOW_LAB_ADDRESSES = False


@pytest.mark.django_db
def test_the_site_form_refuses_a_documentation_address_with_the_reason(world, production):
    client = Client()
    client.force_login(world.people["customer_admin"])
    response = client.post(
        f"/o/{world.customer.slug}/sites/new/form/",
        {
            "name": "Branch office",
            "vendor": "fortigate",
            "lan_network": "192.168.5.0/24",
            "lan_gateway": "192.168.5.1",
            "host_addressing": "static",
            "host_address": "192.168.5.10",
            "host_os": "windows",
            "public_address": "192.0.2.50",
            "reverify": "weekly",
            "iface-TOTAL_FORMS": "2",
            "iface-INITIAL_FORMS": "0",
            "iface-MIN_NUM_FORMS": "2",
            "iface-MAX_NUM_FORMS": "6",
        },
    )
    assert response.status_code == 422
    assert "192.0.2.50 is a documentation address" in response.content.decode()
    assert not Site.objects.filter(name="Branch office").exists()


@pytest.mark.django_db
def test_the_api_refuses_a_private_address_with_the_reason(world, production):
    body = site_description(name="Branch", public_address="10.0.0.1")
    response = token_client(world.people["customer_admin"]).post(
        f"/api/o/{world.customer.slug}/sites/", body
    )
    assert response.status_code == 400
    [message] = response.json()["public_address"]
    assert "private" in message


@pytest.mark.django_db
def test_an_import_names_the_line_and_reason(world, production):
    text = "name,vendor,lan_network,lan_gateway,host_addressing,host_address,public_address\n"
    text += "Branch,fortigate,192.168.9.0/24,192.168.9.1,static,192.168.9.10,127.0.0.1\n"
    check = check_import(organisation=world.customer, text=text, fmt="csv")
    [problem] = [p for p in check.problems if p.field == "public_address"]
    assert problem.line == 2 and "loopback" in problem.message
