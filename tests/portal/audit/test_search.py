"""Searching the audit trail: each filter, the scope of each role, bad input, paging, htmx, queries."""

import pytest

from portal.accounts.models import Role
from portal.audit.models import ActorKind, AuditEvent
from portal.audit.services import reseller_of
from tests.factories import UserFactory
from tests.portal.audit.helpers import aware, client_for, make_event

pytestmark = pytest.mark.django_db


def url(organisation) -> str:
    return f"/o/{organisation.slug}/audit/"


def listed(response) -> list[str]:
    """The actions of the events on the page, in page order."""
    return [event.action for event in response.context["events"]]


def listed_ids(response) -> set[int]:
    return {event.pk for event in response.context["events"]}


@pytest.fixture
def support(world):
    return client_for(world.people[Role.SUPPORT])


@pytest.fixture
def reseller_admin(world):
    return client_for(world.people[Role.RESELLER_ADMIN])


# --- each filter ------------------------------------------------------------------------------


def test_organisation_filter_on_a_reseller_page(world, reseller_admin):
    own = make_event(organisation=world.customer, action="test.own")
    sibling = make_event(organisation=world.sibling_customer, action="test.sibling")
    response = reseller_admin.get(
        url(world.reseller), {"organisation": world.sibling_customer.slug}
    )
    assert response.status_code == 200
    assert sibling.pk in listed_ids(response)
    assert own.pk not in listed_ids(response)
    assert {e.organisation_id for e in response.context["events"]} == {world.sibling_customer.pk}


def test_organisation_choices_follow_the_scope(world, reseller_admin, support):
    field = reseller_admin.get(url(world.reseller)).context["filter"].form.fields["organisation"]
    assert set(field.queryset) == {world.reseller, world.customer, world.sibling_customer}
    field = support.get(url(world.provider)).context["filter"].form.fields["organisation"]
    assert set(field.queryset) == set(world.organisations)


def test_a_customer_page_offers_no_organisation_choice(world):
    client = client_for(world.people[Role.CUSTOMER_ADMIN])
    response = client.get(url(world.customer))
    assert "organisation" not in response.context["filter"].form.fields
    assert 'name="organisation"' not in response.content.decode()


def test_site_filter_covers_the_site_and_what_belongs_to_it(world, support):
    site = world.sites[world.customer.slug]
    other = world.sites[world.sibling_customer.slug]
    updated = make_event(
        organisation=world.customer,
        action="site.updated",
        object_type="sites.site",
        object_id=str(site.pk),
        object_repr=site.name,
    )
    step = site.current_instruction_set.rollout.steps.first()
    step_event = make_event(
        organisation=world.customer,
        action="rollout.step_changed",
        object_type="sites.rolloutstep",
        object_id=str(step.pk),
    )
    elsewhere = make_event(
        organisation=world.sibling_customer,
        action="site.updated",
        object_type="sites.site",
        object_id=str(other.pk),
    )
    for value in (site.name, "ONE hq", str(site.pk), f"#{site.pk}"):
        response = support.get(url(world.provider), {"site": value})
        ids = listed_ids(response)
        assert {updated.pk, step_event.pk} <= ids, value
        assert elsewhere.pk not in ids, value
    # The world's regeneration recorded the site's first instructions: part of its trail too.
    response = support.get(url(world.provider), {"site": site.name})
    assert "instructions.generated" in listed(response)


def test_site_filter_finds_nothing_outside_the_scope(world, reseller_admin):
    other_site = world.sites[world.other_customer.slug]
    response = reseller_admin.get(url(world.reseller), {"site": str(other_site.pk)})
    assert response.status_code == 200
    assert listed(response) == []


def test_person_filter_matches_username_label_and_name(world, support):
    alice = UserFactory(username="alice.acme", first_name="Alice", last_name="Anders")
    by_alice = make_event(
        organisation=world.customer,
        actor_kind=ActorKind.PERSON,
        actor_user=alice,
        actor_label="alice.acme",
        action="test.alice",
    )
    failed_login = make_event(
        actor_kind=ActorKind.ANONYMOUS, actor_label="mallory", action="auth.login_failed"
    )
    make_event(organisation=world.customer, actor_label="worker", actor_kind=ActorKind.WORKER)
    for value in ("alice", "ACME", "Anders"):
        assert listed_ids(support.get(url(world.provider), {"person": value})) == {by_alice.pk}, (
            value
        )
    assert listed_ids(support.get(url(world.provider), {"person": "mall"})) == {failed_login.pk}


def test_action_filter_exact_and_prefix(world, support):
    for action in ("site.created", "site.updated", "site.updated", "probe.proven"):
        make_event(organisation=world.customer, action=action)
    exact = support.get(url(world.provider), {"action": "site.updated"})
    assert listed(exact) == ["site.updated", "site.updated"]
    family = support.get(url(world.provider), {"action": "site.*"})
    assert sorted(listed(family)) == ["site.created", "site.updated", "site.updated"]


def test_action_choices_are_the_actions_present_grouped_by_family(world, support):
    make_event(organisation=world.customer, action="site.created")
    make_event(organisation=world.customer, action="site.updated")
    response = support.get(url(world.provider))
    html = response.content.decode()
    assert '<option value="site.*">site.* (all 2)</option>' in html
    # Support reads the words with the code beside them.
    assert '<option value="site.updated">Changed a site (site.updated)</option>' in html
    assert '<optgroup label="Sites">' in html


def test_an_action_that_has_not_happened_yet_is_a_valid_search(world, support):
    response = support.get(url(world.provider), {"action": "probe.failed"})
    assert response.status_code == 200
    assert listed(response) == []
    assert 'value="probe.failed" selected' in response.content.decode()


def test_source_filter(world, support):
    by_worker = make_event(organisation=world.customer, source="worker", action="test.worker")
    make_event(organisation=world.customer, source="web", action="test.web")
    response = support.get(url(world.provider), {"source": "worker"})
    assert by_worker.pk in listed_ids(response)
    assert {e.source for e in response.context["events"]} == {"worker"}


def test_date_range_includes_both_ends(world, support):
    before = make_event(
        organisation=world.customer, action="test.before", at=aware(2025, 3, 9, 23, 59)
    )
    first = make_event(
        organisation=world.customer, action="test.first", at=aware(2025, 3, 10, 0, 0)
    )
    last = make_event(
        organisation=world.customer, action="test.last", at=aware(2025, 3, 12, 23, 59)
    )
    after = make_event(
        organisation=world.customer, action="test.after", at=aware(2025, 3, 13, 0, 0)
    )
    response = support.get(
        url(world.provider), {"date_from": "2025-03-10", "date_to": "2025-03-12"}
    )
    ids = listed_ids(response)
    assert {first.pk, last.pk} <= ids
    assert not {before.pk, after.pk} & ids
    only_from = listed_ids(support.get(url(world.provider), {"date_from": "2025-03-13"}))
    assert after.pk in only_from and last.pk not in only_from


def test_filters_combine(world, support):
    wanted = make_event(
        organisation=world.customer, action="site.updated", source="web", actor_label="acme"
    )
    make_event(organisation=world.customer, action="site.updated", source="api", actor_label="acme")
    make_event(
        organisation=world.sibling_customer, action="site.updated", source="web", actor_label="acme"
    )
    response = support.get(
        url(world.provider),
        {
            "organisation": world.customer.slug,
            "action": "site.*",
            "source": "web",
            "person": "acme",
        },
    )
    assert listed_ids(response) == {wanted.pk}


def test_extreme_dates_are_searched_without_error(world, support):
    response = support.get(
        url(world.provider), {"date_from": "0001-01-01", "date_to": "9999-12-31"}
    )
    assert response.status_code == 200


# --- scope -------------------------------------------------------------------------------------


def test_a_reseller_never_sees_another_resellers_clients(world, reseller_admin):
    mine = make_event(organisation=world.customer, action="test.mine")
    theirs = make_event(organisation=world.other_customer, action="test.theirs")
    unowned = make_event(action="auth.login_failed", actor_label="someone")
    response = reseller_admin.get(url(world.reseller))
    ids = listed_ids(response)
    assert mine.pk in ids
    assert not {theirs.pk, unowned.pk} & ids
    # Asking for the other reseller's client by id is a field error, not an empty or a leak.
    response = reseller_admin.get(url(world.reseller), {"organisation": world.other_customer.slug})
    assert response.status_code == 422
    assert "organisation" in response.context["filter"].errors
    assert reseller_admin.get(url(world.other_reseller)).status_code == 404
    assert reseller_admin.get(url(world.other_customer)).status_code == 404


def test_a_customer_admin_sees_only_its_own_organisation(world):
    client = client_for(world.people[Role.CUSTOMER_ADMIN])
    mine = make_event(organisation=world.customer, action="test.mine")
    sibling = make_event(organisation=world.sibling_customer, action="test.sibling")
    reseller = make_event(organisation=world.reseller, action="test.reseller")
    ids = listed_ids(client.get(url(world.customer)))
    assert mine.pk in ids
    assert not {sibling.pk, reseller.pk} & ids
    events = client.get(url(world.customer)).context["events"]
    assert {e.organisation_id for e in events} == {world.customer.pk}
    assert client.get(url(world.sibling_customer)).status_code == 404
    assert client.get(url(world.reseller)).status_code == 404


def test_a_customer_viewer_may_not_read_the_audit_trail(world):
    client = client_for(world.people[Role.CUSTOMER_VIEWER])
    assert client.get(url(world.customer)).status_code == 403
    assert client.get(url(world.customer) + "export.csv").status_code == 403


def test_support_sees_every_organisation_and_unowned_events(world, support):
    unowned = make_event(action="auth.login_failed", actor_label="someone")
    theirs = make_event(organisation=world.other_customer, action="test.theirs")
    ids = listed_ids(support.get(url(world.provider)))
    assert {unowned.pk, theirs.pk} <= ids


def test_the_search_page_shows_the_read_only_banner_to_support(world, support):
    assert "Read-only view" in support.get(url(world.provider)).content.decode()


# --- bad input ---------------------------------------------------------------------------------


def test_a_bad_date_is_a_422_naming_the_field(world, support):
    response = support.get(url(world.provider), {"date_from": "2025-13-45", "action": ""})
    assert response.status_code == 422
    assert list(response.context["filter"].errors) == ["date_from"]
    html = response.content.decode()
    assert 'id="id_date_from_errors"' in html
    assert "From: Enter a valid date." in html
    assert "The search did not run" in html
    assert listed(response) == []


def test_an_end_before_the_start_is_a_422_on_the_end(world, support):
    response = support.get(
        url(world.provider), {"date_from": "2025-03-10", "date_to": "2025-03-01"}
    )
    assert response.status_code == 422
    assert list(response.context["filter"].errors) == ["date_to"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"action": "site.updated; DROP TABLE"}, "action"),
        ({"source": "telepathy"}, "source"),
        ({"organisation": "not-a-number"}, "organisation"),
        ({"person": "x" * 151}, "person"),
    ],
)
def test_other_bad_values_are_422_naming_the_field(world, support, params, field):
    response = support.get(url(world.provider), params)
    assert response.status_code == 422
    assert list(response.context["filter"].errors) == [field]


def test_a_bad_filter_over_htmx_swaps_only_the_field_errors(world, support):
    response = support.get(
        url(world.provider), {"date_to": "yesterday"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    assert response["HX-Reswap"] == "none"
    assert response["HX-Push-Url"] == "false"
    html = response.content.decode()
    assert "<html" not in html
    assert (
        '<div class="field-errors" id="id_date_to_errors" hx-swap-oob="true">'
        '<ul class="errorlist"><li>To: Enter a valid date.</li></ul></div>'
    ) in html
    assert "HX-Request" in response["Vary"]


# --- results: order, pages, htmx ----------------------------------------------------------------


def test_results_are_newest_first_and_paged_by_fifty(world, support):
    AuditEvent.objects.bulk_create(
        AuditEvent(action=f"test.n{n:03}", actor_kind="system", source="system") for n in range(120)
    )
    first = support.get(url(world.provider), {"action": "test.*"})
    assert first.context["page_obj"].paginator.count == 120
    assert len(listed(first)) == 50
    stamps = [(e.occurred_at, e.pk) for e in first.context["events"]]
    assert stamps == sorted(stamps, reverse=True)
    assert listed(first)[0] == "test.n119"
    html = first.content.decode()
    assert "?action=test.%2A&amp;page=2" in html  # the next page keeps the filters
    third = support.get(url(world.provider), {"action": "test.*", "page": 3})
    assert listed(third)[-1] == "test.n000"
    assert len(listed(third)) == 20


def test_htmx_gets_the_results_partial_with_vary(world, support):
    make_event(organisation=world.customer, action="site.updated")
    full = support.get(url(world.provider), {"action": "site.updated"})
    partial = support.get(
        url(world.provider), {"action": "site.updated"}, headers={"HX-Request": "true"}
    )
    assert full.status_code == partial.status_code == 200
    assert "HX-Request" in full["Vary"] and "HX-Request" in partial["Vary"]
    body = partial.content.decode()
    assert body.lstrip().startswith('<section class="panel audit-results" id="audit-results"')
    assert "<form" not in body and "<html" not in body
    # The errors of every field are cleared out of band, and the export links follow the filters.
    assert 'id="id_date_from_errors" hx-swap-oob="true"' in body
    assert "export.csv?action=site.updated" in body
    page = full.content.decode()
    assert 'hx-trigger="change, keyup changed delay:300ms, submit"' in page
    assert 'hx-push-url="true"' in page
    assert f'method="get" action="{url(world.provider)}"' in page


def test_rows_link_to_the_object_history(world, support):
    site = world.sites[world.customer.slug]
    make_event(
        organisation=world.customer,
        action="site.updated",
        object_type="sites.site",
        object_id=str(site.pk),
        object_repr=site.name,
    )
    html = support.get(url(world.provider), {"action": "site.updated"}).content.decode()
    assert f'href="/o/{world.provider.slug}/audit/object/sites.site/{site.pk}/"' in html


# --- queries -----------------------------------------------------------------------------------


def _events(organisations, count):
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organisation=organisations[n % len(organisations)],
            organisation_name=organisations[n % len(organisations)].name,
            reseller_id=reseller_of(organisations[n % len(organisations)]),
            action=("site.updated", "probe.proven", "rollout.step_changed")[n % 3],
            actor_kind="person",
            actor_label=f"person{n % 7}",
            source="web",
            request_id=f"req{n:06}",
            ip_address="198.51.100.20",
            object_type="sites.site",
            object_id=str(n),
            object_repr=f"Site {n}",
            after={"n": n},
        )
        for n in range(count)
    )


SEARCHES = [
    {},
    {"action": "site.*", "person": "person", "source": "web", "date_from": "2000-01-01"},
    {"site": "HQ", "organisation": "__customer__"},
]


# session, user, memberships (the actor), the organisation, the actions present, the count, the
# organisation choices, the switcher, the page of events; a site or a person search adds one (the
# ids of the site's objects, or of the people, read first so that the events' indexes serve it).
MAX_QUERIES = 11
# Whose audit trail: the reseller's (itself and its clients) and the provider's (everyone's).
VIEWERS = {"reseller": (Role.RESELLER_ADMIN, "reseller"), "support": (Role.SUPPORT, "provider")}


@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize("search", range(len(SEARCHES)))
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "partial"])
@pytest.mark.parametrize("viewer", list(VIEWERS))
def test_search_query_count_does_not_grow_with_events(
    world, django_assert_max_num_queries, count, search, htmx, viewer
):
    role, where = VIEWERS[viewer]
    organisation = getattr(world, where)
    _events([world.customer, world.sibling_customer], count)
    client = client_for(world.people[role])
    client.get(url(organisation))  # the session's active organisation is stored once
    params = {
        k: (world.customer.slug if v == "__customer__" else v) for k, v in SEARCHES[search].items()
    }
    headers = {"HX-Request": "true"} if htmx else {}
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url(organisation), params, headers=headers)
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert len(page.object_list) == min(page.paginator.count, 50)
    assert search or page.paginator.count > count  # every event in scope (and the world's own)
