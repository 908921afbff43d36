"""Tenancy and permissions in the API: another tenant's object is a 404, a role that may read but
not write gets 403 on writes, nobody authenticated gets 401; the permission module decides."""

import pytest

from portal.accounts import permissions
from portal.accounts.permissions import Actor
from portal.audit.models import AuditEvent
from sites.models import ProbeRun, Site
from tests.portal.api.helpers import (
    json_client,
    organisation_routes,
    own_objects,
    token_client,
    url_of,
)
from tests.world import ROLES

pytestmark = pytest.mark.django_db

ANONYMOUS = None
WRITES = ("post", "put", "patch")


def expected(world, role, view_class, organisation, belongs: bool, method: str) -> int | None:
    """What ``role`` must get; None where the request is permitted (any non-5xx answer will do)."""
    if role is ANONYMOUS:
        return 401
    actor = Actor.for_user(world.people[role])
    if not permissions.can_view_organisation(actor, organisation):
        return 404
    if not view_class.permission(actor, organisation):
        return 403
    if not belongs:
        return 404
    if method in WRITES and not view_class.write_permission(actor, organisation):
        return 403
    return None


@pytest.mark.parametrize("pattern", organisation_routes(), ids=lambda p: str(p.pattern))
def test_every_route_follows_the_permission_module(world, pattern):
    view_class = pattern.callback.view_class
    assert view_class.permission in vars(permissions).values(), "name a permission function"
    methods = ["get"] + [m for m in WRITES if hasattr(view_class, m)]
    assert not {"post", "put", "patch"} & set(methods) or view_class.write_permission is not None
    clients = {role: token_client(world.people[role]) for role in ROLES}
    clients[ANONYMOUS] = json_client()
    failures = []
    for role, client in clients.items():
        for organisation in world.organisations:
            values, owned = own_objects(world, organisation)
            belongs = owned or not pattern.pattern.converters
            url = url_of(pattern, organisation, values)
            for method in methods:
                # An empty body: a permitted write is refused as invalid or changes nothing.
                status = getattr(client, method)(url, {}).status_code
                want = expected(world, role, view_class, organisation, belongs, method)
                if want is None and status >= 500 or want is not None and status != want:
                    want = want or "no 5xx"
                    failures.append(f"{role} {method.upper()} {url}: {status}, expected {want}")
    assert not failures, "\n".join(failures)


def test_another_tenants_site_is_404_for_a_customer_admin(world):
    client = token_client(world.people["customer_admin"])
    own, theirs = world.customer, world.other_customer
    site = world.sites[theirs.slug]
    run = world.probe_runs[theirs.slug]
    step = site.current_instruction_set.rollout.steps.first()
    # Under their organisation: the organisation itself is not found.
    assert client.get(f"/api/o/{theirs.slug}/sites/").status_code == 404
    assert client.get(f"/api/o/{theirs.slug}/sites/{site.pk}/").status_code == 404
    # Under one's own organisation: their objects are not found either, for reads and writes.
    base = f"/api/o/{own.slug}/sites/{site.pk}"
    for path in ("", "steps/", "probes/", f"probes/{run.pk}/", "instruction-sets/"):
        url = f"{base}/{path}"
        response = client.get(url)
        assert response.status_code == 404, url
        assert theirs.name not in response.content.decode()
    assert client.patch(f"{base}/", {"reverify": "off"}).status_code == 404
    assert client.patch(f"{base}/steps/{step.pk}/", {"state": "done"}).status_code == 404
    assert client.post(f"{base}/probes/", {"direction": "outbound"}).status_code == 404
    # Their probe run under one's own site.
    own_site = world.sites[own.slug]
    assert client.get(f"/api/o/{own.slug}/sites/{own_site.pk}/probes/{run.pk}/").status_code == 404
    assert client.get(f"/api/o/{own.slug}/sites/{own_site.pk}/steps/{step.pk}/").status_code == 404
    site.refresh_from_db()
    assert site.reverify == "weekly"


def test_support_reads_every_organisation_and_changes_nothing(world):
    client = token_client(world.people["support"])
    listed = client.get(f"/api/o/{world.provider.slug}/sites/").json()
    assert listed["count"] == Site.objects.count()
    for organisation in (world.customer, world.sibling_customer, world.other_customer):
        site = world.sites[organisation.slug]
        base = f"/api/o/{organisation.slug}/sites/{site.pk}"
        assert client.get(f"{base}/").status_code == 200
        assert client.get(f"/api/o/{organisation.slug}/audit/").status_code == 200
        assert client.patch(f"{base}/", {"reverify": "off"}).status_code == 403
        step = site.current_instruction_set.rollout.steps.first()
        assert client.patch(f"{base}/steps/{step.pk}/", {"state": "done"}).status_code == 403
        assert client.post(f"{base}/probes/", {"direction": "outbound"}).status_code == 403
        assert client.post(f"/api/o/{organisation.slug}/sites/", {}).status_code == 403
    assert not Site.objects.exclude(reverify="weekly").exists()
    assert ProbeRun.objects.count() == len(world.probe_runs)


def test_a_viewer_reads_but_may_not_write_nor_read_the_audit_trail(world):
    client = token_client(world.people["customer_viewer"])
    slug = world.customer.slug
    site = world.sites[slug]
    assert client.get(f"/api/o/{slug}/sites/{site.pk}/steps/").status_code == 200
    response = client.post(f"/api/o/{slug}/sites/{site.pk}/probes/", {"direction": "outbound"})
    assert response.status_code == 403
    assert response.json() == {"detail": "Not allowed to change this: can_edit_sites refused."}
    assert client.get(f"/api/o/{slug}/audit/").status_code == 403


def test_a_reseller_admin_changes_its_clients_sites_only(world):
    client = token_client(world.people["reseller_admin"])
    mine, theirs = world.sites[world.customer.slug], world.sites[world.other_customer.slug]
    response = client.patch(f"/api/o/{world.customer.slug}/sites/{mine.pk}/", {"reverify": "daily"})
    assert response.status_code == 200
    assert client.get(f"/api/o/{world.other_customer.slug}/sites/{theirs.pk}/").status_code == 404
    # Its own (reseller) organisation lists its clients' sites, and has none of its own to change.
    listed = client.get(f"/api/o/{world.reseller.slug}/sites/").json()
    clients = {world.customer.slug, world.sibling_customer.slug}
    assert {s["organisation"] for s in listed["results"]} == clients
    assert client.post(f"/api/o/{world.reseller.slug}/sites/", {}).status_code == 403


def test_anonymous_gets_401_everywhere(world):
    client = json_client()
    site = world.sites[world.customer.slug]
    base = f"/api/o/{world.customer.slug}"
    urls = (f"{base}/sites/", f"{base}/sites/{site.pk}/", f"{base}/audit/", "/api/o/nowhere/sites/")
    for url in urls:
        assert client.get(url).status_code == 401, url
    assert client.post(f"{base}/sites/", {}).status_code == 401


def test_a_refusal_is_an_audit_event(world):
    client = token_client(world.people["customer_viewer"])
    site = world.sites[world.customer.slug]
    client.patch(f"/api/o/{world.customer.slug}/sites/{site.pk}/", {"reverify": "off"})
    event = AuditEvent.objects.get(action="permission.denied")
    assert event.actor_user_id == world.people["customer_viewer"].pk
    assert event.source == "api"
    assert event.organisation_id == world.customer.pk
