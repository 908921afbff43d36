"""The sites API's pages cost the same at any depth (#15): next and previous links carry a
position, following them reaches every site once in the list's order, the count stops at 1,000
and says so, and a page number past the first 20 or a position that is not one is a 400 naming
the parameter."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sites.api.pagination import NOT_A_POSITION
from sites.models import Site
from sites.selectors.dashboard import COUNT_CAP, OFFSET_PAGES
from tests.factories import CustomerFactory, SiteFactory
from tests.portal.api.helpers import token_client
from tests.sites.api.test_sites import sites_url

pytestmark = pytest.mark.django_db


def with_sites(world, per_organisation: int) -> None:
    """``per_organisation`` more sites in each of the reseller's clients and in a third client
    named like one of them (organisations of the same name stay apart, one after the other)."""
    twin = CustomerFactory(parent=world.reseller, name=world.customer.name, slug="customer-twin")
    Site.objects.bulk_create(
        SiteFactory.build(organisation=organisation, name=f"Branch {n:03d}")
        for organisation in (world.customer, world.sibling_customer, twin)
        for n in range(per_organisation)
    )


def expected_order(world) -> list[int]:
    sites = Site.objects.filter(organisation__parent=world.reseller)
    return list(
        sites.order_by("organisation__name", "organisation_id", "name", "pk").values_list(
            "pk", flat=True
        )
    )


def test_next_links_reach_every_site_once_in_order_and_previous_links_go_back(world):
    with_sites(world, 70)
    client = token_client(world.people["reseller_admin"])
    client.get(sites_url(world.reseller))  # the token's first use writes last_used_at
    pages, url, queries = [], sites_url(world.reseller), []
    while url:
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url).json()
        queries.append(len(captured))
        pages.append(body)
        url = body["next"]
    seen = [site["id"] for page in pages for site in page["results"]]
    assert seen == expected_order(world)  # each once, organisation by organisation
    assert [len(page["results"]) for page in pages] == [50, 50, 50, 50, 12]
    assert all(page["count"] == 212 and not page["count_is_capped"] for page in pages)
    assert "after=" in pages[0]["next"] and pages[0]["previous"] is None
    assert pages[-1]["next"] is None
    # A page from a position costs one query more than the first (two ranges), at any depth.
    assert len(set(queries[1:])) == 1 and queries[1] == queries[0] + 1

    back = client.get(pages[-1]["previous"]).json()
    assert [site["id"] for site in back["results"]] == [s["id"] for s in pages[-2]["results"]]
    first_again = client.get(pages[1]["previous"]).json()
    assert first_again["results"] == pages[0]["results"] and first_again["previous"] is None


def test_page_numbers_reach_the_first_pages_and_links_keep_the_filter(world):
    with_sites(world, 70)
    client = token_client(world.people["reseller_admin"])
    url = f"{sites_url(world.reseller)}?organisation={world.sibling_customer.slug}"
    second = client.get(f"{url}&page=2").json()
    names = [site["name"] for site in second["results"]]
    assert names == [f"Branch {n:03d}" for n in range(50, 70)] + ["Customer Sibling HQ"]
    assert second["count"] == 71 and second["next"] is None
    assert f"organisation={world.sibling_customer.slug}" in second["previous"]
    assert "page=" not in second["previous"]


def test_the_count_stops_at_the_cap_and_says_so(world):
    with_sites(world, COUNT_CAP // 3 + 1)
    body = token_client(world.people["reseller_admin"]).get(sites_url(world.reseller)).json()
    assert body["count"] == COUNT_CAP + 1 and body["count_is_capped"] is True


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (f"page={OFFSET_PAGES + 1}", "page", f"from 1 to {OFFSET_PAGES}"),
        ("page=0", "page", "from 1"),
        ("page=two", "page", "from 1"),
        ("after=bm90IGEgcG9zaXRpb24", "after", NOT_A_POSITION),
        ("before=WyJ4Il0", "before", NOT_A_POSITION),  # ["x"]: too short for this order
        ("page=1&after=WyJ4Il0", "page", "Give one of page, after, before"),
    ],
)
def test_an_unusable_page_or_position_is_a_400_naming_it(world, query, field, message):
    client = token_client(world.people["reseller_admin"])
    response = client.get(f"{sites_url(world.reseller)}?{query}")
    assert response.status_code == 400, response.content
    assert message in response.json()[field][0]


def test_a_position_from_another_list_shows_only_the_callers_sites(world):
    with_sites(world, 60)
    reseller = token_client(world.people["reseller_admin"]).get(sites_url(world.reseller)).json()
    after = reseller["next"].split("after=")[1]
    customer = token_client(world.people["customer_admin"])
    body = customer.get(f"{sites_url(world.customer)}?after={after}").json()
    assert body["results"]
    assert {site["organisation"] for site in body["results"]} == {world.customer.slug}
