"""Each sort and filter of the dashboard has an index that serves it, on PostgreSQL: the plan
(``EXPLAIN``) of the page's query names it. The planner is told to avoid full scans and explicit
sorts (``enable_seqscan``, ``enable_sort`` off), as it would at 100,000 sites, so that with the
few rows of a test it still shows the plan it can make, not the cheapest for ten rows. A sort or
filter that lost its index falls back to a scan or a sort, and the test fails."""

import pytest
from django.db import connection
from django.http import QueryDict

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from sites.selectors.dashboard import dashboard_filterset

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's"),
]


def plan(world, query: str, *, role=Role.SUPPORT, page_of=None, position=False, avoid=()) -> str:
    """The plan of the dashboard's page query (the ids of one page) for ``query``."""
    organisation = page_of or (world.provider if role == Role.SUPPORT else world.reseller)
    filterset = dashboard_filterset(
        Actor.for_user(world.people[role]), organisation, QueryDict(query)
    )
    assert filterset.is_valid(), filterset.errors
    sites, ordering = filterset.matching(), filterset.ordering
    keys = [alias for alias, _, _ in ordering.keys]
    if position:
        row = sites.values("pk", *keys).first()
        sites = sites.filter(ordering.after([row[key] for key in keys]))
    avoided = ["enable_seqscan", "enable_sort", *avoid]
    with connection.cursor() as cursor:
        for setting in avoided:
            cursor.execute(f"SET {setting} = off")
        try:
            return sites.values("pk", *keys)[:51].explain()
        finally:
            for setting in avoided:
                cursor.execute(f"RESET {setting}")


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("name", "site_sort_name"),
        ("-name", "site_sort_name_desc"),
        ("vendor", "site_sort_vendor"),
        ("-vendor", "site_sort_vendor_desc"),
        ("updated", "site_sort_updated"),
        ("-updated", "site_sort_updated_desc"),
        ("probe", "site_sort_probe"),
        ("-probe", "site_sort_probe_desc"),
    ],
)
def test_each_sort_reads_its_index_in_order_for_every_page(world, sort, index):
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        first = plan(world, f"sort={sort}", role=role)
        assert f"Index Scan using {index} " in first or f"Index Only Scan using {index} " in first
        assert "Sort Key" not in first.split(index)[0]  # no sort of every row above it
        # A deeper page starts the same index at its position (an index condition, not a filter).
        deeper = plan(world, f"sort={sort}", role=role, position=True)
        assert index in deeper
        after_index = deeper.split(index, 1)[1]
        assert "Index Cond" in after_index.split("->")[0]


@pytest.mark.parametrize("sort", ["", "organisation", "-organisation"])
def test_the_organisation_sort_walks_organisations_by_name_then_their_sites(world, sort):
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        text = plan(world, f"sort={sort}" if sort else "", role=role)
        assert "sites_dashboard_organisation_name" in text
        assert "site_org_name" in text
        # At most the sites of one organisation are sorted (by name), never all of them.
        assert "Incremental Sort" in text or "Sort Key" not in text


def test_search_reads_the_trigram_index(world):
    # Not through an index in name order either: the matches are found by the trigram index.
    text = plan(world, "q=north", avoid=["enable_indexscan", "enable_indexonlyscan"])
    assert "site_name_trgm" in text
    assert "Bitmap Index Scan on site_name_trgm" in text and "~~" in text


def test_filters_read_their_indexes(world):
    assert "Index Cond: ((vendor)::text = 'fortigate'::text)" in plan(
        world, "vendor=fortigate&sort=vendor"
    )
    by_match = ["enable_indexscan", "enable_indexonlyscan"]  # found by matching, not in order
    assert "Bitmap Index Scan on site_last_probe_state" in plan(
        world, "flag=failing", avoid=by_match
    )
    in_progress = plan(world, "rollout=in_progress")
    assert "rollout_state_time" in in_progress
    stalled = plan(world, "flag=stalled")
    assert "rollout_state_time" in stalled and "rollout_step_changed" in stalled
    waiting = plan(world, "flag=waiting")
    assert "probe_run_site_state" in waiting or "probe_run_state_expiry" in waiting
    customer = plan(world, f"organisation={world.customer.slug}&sort=name")
    assert "site_org_name" in customer or "site_sort_name" in customer
