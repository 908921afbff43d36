"""One site's timeline: the events of the site, its instruction versions, their steps, its probe
runs and its organisation's members, oldest first, paged, in words, for those who may read the
organisation's audit trail; nothing of another site or organisation."""

from datetime import timedelta

import pytest

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from portal.accounts.services import add_membership
from portal.audit import context
from portal.audit.models import AuditEvent
from portal.audit.timeline import site_timeline
from sites.services.probes import start_probe_run
from sites.services.rollouts import mark_step
from sites.services.sites import update_site
from tests.factories import UserFactory
from tests.portal.audit.helpers import aware, client_for, make_event

pytestmark = pytest.mark.django_db


def timeline_url(site, **query) -> str:
    url = f"/o/{site.organisation.slug}/audit/site/{site.pk}/"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def shown(response) -> list[str]:
    return [entry.event.action for entry in response.context["entries"]]


@pytest.fixture
def lived_site(world):
    """The customer's site after a day's work by its admin: renamed, a step done, a probe run
    started, a colleague added. The sibling site and another customer see the same meanwhile."""
    site = world.sites[world.customer.slug]
    admin = world.people[Role.CUSTOMER_ADMIN]
    context.begin(source="web", request_id="req-t-1", user_id=admin.pk, actor_label=admin.username)
    try:
        update_site(site=site, data={**site.description, "name": "Customer One Main office"})
        site.refresh_from_db()
        step = site.current_instruction_set.rollout.steps.order_by("position").first()
        mark_step(step=step, state="done", by=admin)
        start_probe_run(site=site, direction="outbound", by=admin)
        add_membership(organisation=world.customer, user=UserFactory(), role=Role.CUSTOMER_VIEWER)
        for other in (world.sibling_customer, world.other_customer):
            other_site = world.sites[other.slug]
            other_step = other_site.current_instruction_set.rollout.steps.first()
            mark_step(step=other_step, state="done", by=admin)
            add_membership(organisation=other, user=UserFactory(), role=Role.CUSTOMER_VIEWER)
    finally:
        context.clear_context()
    return site


def test_the_timeline_holds_every_strand_of_the_site_and_nothing_else(world, lived_site):
    response = client_for(world.people[Role.SUPPORT]).get(timeline_url(lived_site))
    assert response.status_code == 200
    entries = response.context["entries"]
    actions = shown(response)
    assert {
        "instructions.generated",
        "site.updated",
        "rollout.step_changed",
        "probe.started",
        "membership.created",
    } <= set(actions)
    assert {entry.strand.key for entry in entries} == {
        "site",
        "instructions",
        "steps",
        "probes",
        "members",
    }
    # Only this site's objects and its own organisation's members.
    assert all(e.event.organisation_id == world.customer.pk for e in entries)
    assert actions.count("rollout.step_changed") == 1
    assert actions.count("membership.created") == 1
    # Oldest first.
    times = [(e.event.occurred_at, e.event.pk) for e in entries]
    assert times == sorted(times)


def test_a_step_change_shows_what_changed_in_words(world, lived_site):
    response = client_for(world.people[Role.CUSTOMER_ADMIN]).get(timeline_url(lived_site))
    body = response.content.decode()
    step_entry = next(e for e in response.context["entries"] if e.strand.key == "steps")
    assert [(c.key, c.before, c.after) for c in step_entry.changes] == [
        ("state", "pending", "done")
    ]
    assert "Updated a rollout step" in body
    assert "Added a member" in body
    # A customer reads words, not the stored codes; support sees the code beside them.
    assert "rollout.step_changed" not in body
    support_body = client_for(world.people[Role.SUPPORT]).get(timeline_url(lived_site))
    assert "rollout.step_changed" in support_body.content.decode()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.CUSTOMER_ADMIN, 200),
        (Role.CUSTOMER_VIEWER, 403),
        (Role.RESELLER_ADMIN, 200),
        (Role.SUPPORT, 200),
        (Role.OPERATOR, 200),
    ],
)
def test_who_may_read_a_sites_timeline(world, lived_site, role, status):
    assert client_for(world.people[role]).get(timeline_url(lived_site)).status_code == status


def test_another_tenants_site_is_a_404(world, lived_site):
    other = world.sites[world.other_customer.slug]
    reseller_admin = client_for(world.people[Role.RESELLER_ADMIN])
    assert reseller_admin.get(timeline_url(other)).status_code == 404
    # Another organisation's site under one's own organisation's URL: 404, not its events.
    admin = client_for(world.people[Role.CUSTOMER_ADMIN])
    assert admin.get(f"/o/{world.customer.slug}/audit/site/{other.pk}/").status_code == 404
    sibling = world.sites[world.sibling_customer.slug]
    support = client_for(world.people[Role.SUPPORT])
    assert support.get(f"/o/{world.customer.slug}/audit/site/{sibling.pk}/").status_code == 404


def test_the_query_ignores_events_outside_the_audit_scope(world, lived_site):
    """The selector alone: a reseller admin reading another reseller's customer finds nothing."""
    other = world.sites[world.other_customer.slug]
    actor = Actor.for_user(world.people[Role.RESELLER_ADMIN])
    assert not site_timeline(actor, world.other_customer, site_id=other.pk).exists()
    # The customer's own organisation, but another organisation's site id: nothing.
    assert (
        not site_timeline(actor, world.customer, site_id=other.pk)
        .filter(object_type="sites.site")
        .exists()
    )


def test_pages_run_oldest_first_and_keep_the_chosen_kind(world):
    site = world.sites[world.customer.slug]
    before = AuditEvent.objects.filter(object_type="sites.site", object_id=str(site.pk)).count()
    start = aware(2026, 3, 1, 9, 0)
    made = [
        make_event(
            organisation=world.customer,
            action="site.updated",
            object_type="sites.site",
            object_id=str(site.pk),
            object_repr=site.name,
            at=start + timedelta(minutes=minute),
        ).pk
        for minute in range(60)
    ]
    client = client_for(world.people[Role.SUPPORT])
    first = client.get(timeline_url(site, kind="site"))
    assert first.status_code == 200
    page = first.context["page_obj"]
    assert page.paginator.count == 60 + before
    assert [e.event.pk for e in first.context["entries"]] == made[:50]
    assert "kind=site&amp;page=2" in first.content.decode()
    second = client.get(timeline_url(site, kind="site", page=2))
    assert [e.event.pk for e in second.context["entries"]][:10] == made[50:]
    # Everything: the instruction version comes after March's events, so it is on page 2.
    everything = client.get(timeline_url(site, page=2))
    assert "instructions.generated" in shown(everything)


def test_one_kind_only(world, lived_site):
    client = client_for(world.people[Role.SUPPORT])
    assert set(shown(client.get(timeline_url(lived_site, kind="members")))) == {
        "membership.created"
    }
    assert set(shown(client.get(timeline_url(lived_site, kind="probes")))) == {"probe.started"}


@pytest.mark.parametrize("query", [{"kind": "everything"}, {"page": "x"}, {"page": "0"}])
def test_bad_choices_answer_422_naming_the_field(world, lived_site, query):
    response = client_for(world.people[Role.SUPPORT]).get(timeline_url(lived_site, **query))
    assert response.status_code == 422
    field = next(iter(query))
    assert response.context["form"].errors[field]
    assert b"The timeline was not shown" in response.content


def test_queries_do_not_grow_with_the_events(world, lived_site, django_assert_max_num_queries):
    client = client_for(world.people[Role.SUPPORT])
    client.get(timeline_url(lived_site))  # the session and caches settle
    with django_assert_max_num_queries(12) as few:
        client.get(timeline_url(lived_site))
    admin = world.people[Role.CUSTOMER_ADMIN]
    for _ in range(5):
        start_probe_run(site=lived_site, direction="outbound", by=admin)
        add_membership(organisation=world.customer, user=UserFactory(), role=Role.CUSTOMER_VIEWER)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(timeline_url(lived_site))
    assert shown(response).count("probe.started") == 6


def test_the_site_page_and_an_objects_history_lead_to_the_timeline(world, lived_site):
    url = timeline_url(lived_site)
    site_page = f"/o/{world.customer.slug}/sites/{lived_site.pk}/"
    assert url in client_for(world.people[Role.CUSTOMER_ADMIN]).get(site_page).content.decode()
    viewer_page = client_for(world.people[Role.CUSTOMER_VIEWER]).get(site_page)
    assert url not in viewer_page.content.decode()
    history = client_for(world.people[Role.SUPPORT]).get(
        f"/o/{world.provider.slug}/audit/object/sites.site/{lived_site.pk}/"
    )
    assert url in history.content.decode()
