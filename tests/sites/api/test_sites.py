"""Sites through the API: created and changed from the site file by the services, every bad field
named at once with nothing saved, the audit trail saying "api" and who; lists filtered and paged."""

import json

import pytest

from portal.audit.models import ActorKind, AuditEvent
from sites.models import Site
from sites.services.sites import create_site
from tests.factories import SiteFactory, site_description
from tests.portal.api.helpers import token_client

pytestmark = pytest.mark.django_db


def sites_url(organisation) -> str:
    return f"/api/o/{organisation.slug}/sites/"


def post_raw(client, url, text, method="POST"):
    return client.generic(method, url, text, content_type="application/json")


def snapshot():
    return Site.objects.count(), AuditEvent.objects.filter(action__startswith="site.").count()


def test_create_a_site_from_its_site_file(world):
    person = world.people["customer_admin"]
    body = {**site_description(name="Branch", host_os="linux"), "reverify": "daily"}
    response = token_client(person).post(sites_url(world.customer), body)
    assert response.status_code == 201, response.content
    data = response.json()
    site = Site.objects.get(pk=data["id"])
    assert site.organisation == world.customer and site.reverify == "daily"
    assert data["description"] == site.description
    assert data["description"]["host_os"] == "linux"
    assert data["organisation"] == world.customer.slug
    assert data["proof"] == "unproven" and data["current_instruction_set"] is None

    event = AuditEvent.objects.get(action="site.created", object_id=str(site.pk))
    assert event.source == "api"
    assert event.actor_kind == ActorKind.PERSON
    assert event.actor_user_id == person.pk
    assert event.actor_label == person.username
    assert event.request_id == response["X-Request-ID"]


def test_bad_fields_are_all_named_and_nothing_is_saved(world):
    before = snapshot()
    body = site_description(
        name="Customer One HQ",  # taken
        vendor="acme",
        lan_network="192.168.1.0/33",
        host_address="10.0.0.5",
        monitoring_enabled=True,
        monitoring_sources=["198.51.100.7/24"],
        colour="blue",
    )
    response = token_client(world.people["customer_admin"]).post(sites_url(world.customer), body)
    assert response.status_code == 400
    errors = response.json()
    assert {"vendor", "lan_network", "monitoring_sources.0", "colour"} <= set(errors), errors
    assert all(isinstance(m, list) and all(isinstance(x, str) for x in m) for m in errors.values())
    assert "Unknown vendor 'acme'" in errors["vendor"][0]
    assert "host bits" in errors["monitoring_sources.0"][0]
    assert snapshot() == before

    # Fixed except the name: the service's own check (one name per organisation) speaks.
    response = token_client(world.people["customer_admin"]).post(
        sites_url(world.customer), site_description(name="customer one hq")
    )
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([1, 2, 3], "non_field_errors"),
        ({**site_description(), "reverify": "hourly"}, "reverify"),
        (site_description(name="x" * 121), "name"),
        (site_description(firmware="7.2\x00"), "firmware"),
        (site_description(host_interfaces=[{"name": "\ud800"}]), "host_interfaces.0.name"),
        ({**site_description(), "\ud800": 1}, "\\ud800"),
        ({**site_description(), "colour\x00": 1}, "colour\x00"),
    ],
)
def test_odd_bodies_are_field_errors_not_server_errors(world, body, field):
    before = snapshot()
    client = token_client(world.people["customer_admin"])
    # json.dumps escapes a lone surrogate as \ud800, as a client in another language might.
    response = post_raw(client, sites_url(world.customer), json.dumps(body))
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    ["{not json", "[" * 100_000, '{"name": NaN}'],
    ids=["malformed", "nested too deep", "NaN"],
)
def test_malformed_json_is_a_400_in_the_same_shape(world, raw):
    client = token_client(world.people["customer_admin"])
    response = post_raw(client, sites_url(world.customer), raw)
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_form_bodies_are_refused_with_415(world):
    client = token_client(world.people["customer_admin"])
    response = client.post(sites_url(world.customer), {"name": "x"}, format="multipart")
    assert response.status_code == 415


def test_put_replaces_and_patch_changes_some_fields(world):
    site = world.sites[world.customer.slug]
    client = token_client(world.people["customer_admin"])
    url = f"{sites_url(world.customer)}{site.pk}/"

    response = client.patch(url, {"public_address": "198.51.100.9"})
    assert response.status_code == 200, response.content
    site.refresh_from_db()
    assert site.public_address == "198.51.100.9"
    assert site.description["host_address"] == "192.168.1.10"  # kept
    assert response.json()["rollout_state"] == "not_started"

    replacement = site_description(name=site.name, host_addressing="dhcp", host_address=None)
    response = client.put(url, {**replacement, "reverify": "off"})
    assert response.status_code == 200, response.content
    site.refresh_from_db()
    assert site.description["host_addressing"] == "dhcp" and site.reverify == "off"
    events = AuditEvent.objects.filter(action="site.updated", object_id=str(site.pk))
    assert events.count() == 2 and {e.source for e in events} == {"api"}

    # PUT is the whole file: what is left out is missing.
    response = client.put(url, {"name": site.name})
    assert response.status_code == 400
    assert {"vendor", "lan_network", "lan_gateway", "host_addressing"} <= set(response.json())


def test_patch_with_a_bad_field_changes_nothing(world):
    site = world.sites[world.customer.slug]
    response = token_client(world.people["customer_admin"]).patch(
        f"{sites_url(world.customer)}{site.pk}/", {"lan_gateway": "10.9.9.9", "reverify": "daily"}
    )
    assert response.status_code == 400
    assert "lan_gateway" in response.json()
    site.refresh_from_db()
    assert site.reverify == "weekly" and site.description["lan_gateway"] == "192.168.1.1"


def test_the_list_filters_by_vendor_organisation_and_rollout_state(world):
    client = token_client(world.people["reseller_admin"])
    SiteFactory(organisation=world.sibling_customer, name="Firewall lab", vendor="iptables")
    url = sites_url(world.reseller)

    def names(**query):
        return {s["name"] for s in client.get(url, query).json()["results"]}

    assert names(vendor="iptables") == {"Firewall lab"}
    assert names(organisation=world.customer.slug) == {"Customer One HQ"}
    assert names(rollout_state="not_started") == {"Customer One HQ", "Customer Sibling HQ"}
    assert names(rollout_state="done") == set()
    response = client.get(url, {"vendor": "acme", "rollout_state": "sideways"})
    assert response.status_code == 400
    assert {"vendor", "rollout_state"} <= set(response.json())


def test_the_list_is_paged_by_50_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for n in range(60):
        create_site(organisation=world.customer, data=site_description(name=f"Branch {n:02}"))
    client = token_client(world.people["customer_admin"])
    client.get(sites_url(world.customer))  # the token's first use writes last_used_at
    with django_assert_max_num_queries(7):  # one of them: is the caller's address locked out?
        first = client.get(sites_url(world.customer)).json()
    assert first["count"] == 61 and len(first["results"]) == 50 and first["next"]
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 11 and second["next"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("steps/{step}/", {"state": "\udfff"}, "state"),
        ("probes/", {"direction": "outbound", "purpose": "\ud800"}, "purpose"),
    ],
)
def test_a_lone_surrogate_is_refused_wherever_it_is(world, path, body, field):
    """Echoed in an error message, it could not be encoded as UTF-8: it is refused as it is read."""
    site = world.sites[world.customer.slug]
    step = site.current_instruction_set.rollout.steps.first()
    url = f"{sites_url(world.customer)}{site.pk}/{path.format(step=step.pk)}"
    method = "PATCH" if "steps" in path else "POST"
    client = token_client(world.people["customer_admin"])
    response = post_raw(client, url, json.dumps(body), method)
    assert response.status_code == 400
    assert list(response.json()) == [field]
