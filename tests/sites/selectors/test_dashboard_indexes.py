"""Each sort and filter of the dashboard has an index that serves it, on PostgreSQL: the plan
(``EXPLAIN``) of the page's query names it. The planner is told to avoid full scans and explicit
sorts (``enable_seqscan``, ``enable_sort`` off), as it would at 100,000 sites, so that with the
few rows of a test it still shows the plan it can make, not the cheapest for ten rows. A sort or
filter that lost its index falls back to a scan or a sort, and the test fails."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.accounts.models import Role
from portal.accounts.permissions import Actor
from sites.models import Site
from sites.selectors.dashboard import COUNT_CAP, dashboard_filterset, flag_counts
from sites.selectors.proof import stalled_instruction_sets

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the plans are PostgreSQL's"),
]


VENDORS = ["fortigate", "iptables", "pfsense", "meraki", "sophos", "mikrotik", "opnsense"]


@pytest.fixture
def world(world):
    return with_bulk_sites(world)


def with_bulk_sites(world):
    """The world with 3,000 more sites of several vendors, probed or not, updated at different
    times, at different points of their rollouts, in two customers: enough rows that the planner's choices are those of a real size."""
    now = timezone.now()
    Site.objects.bulk_create(
        Site(
            organisation=world.customer if n % 2 else world.sibling_customer,
            name=f"Bulk site {n:05d}",
            vendor=VENDORS[n % len(VENDORS)],
            last_probe_at=now - timedelta(hours=n) if n % 3 else None,
            last_probe_state="failed" if n % 17 == 0 else "proven" if n % 3 else "",
            reverify="weekly",
            rollout_steps_total=n % 11,  # some without steps (no instructions yet)
            rollout_steps_finished=(n % 11) * (n % 4) // 3,
            current_rollout_state=["", "not_started", "in_progress", "in_progress", "done"][n % 5],
            # A few wait on their customer (one in 100), one of them no longer (expired).
            waiting_on_customer_until=now + timedelta(minutes=30 - n // 100)
            if n % 100 == 7
            else None,
        )
        for n in range(3000)
    )
    # Half of them regenerated at once, last: one updated_at, the latest (bulk_create stamps each
    # row with its own moment, which left the group of equal keys, and the plan, to chance).
    batch = [f"Bulk site {n:05d}" for n in range(0, 3000, 2)]
    Site.objects.filter(name__in=batch).update(updated_at=timezone.now())
    return world


def plan(
    world, query: str, *, role=Role.SUPPORT, page_of=None, position=False, same_key=False, avoid=()
) -> str:
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
    if same_key:  # the rest of the first row's group of equal keys, as a page from it reads it
        row = sites.values("pk", *keys).first()
        sites = sites.filter(ordering.ranges_after([row[key] for key in keys])[0])
    avoided = ["enable_seqscan", "enable_sort", *avoid]
    with connection.cursor() as cursor:
        # Statistics of what the test made, not of what earlier tests left in the tables.
        cursor.execute("ANALYZE sites_site, accounts_organisation, sites_rollout")
        for setting in avoided:
            cursor.execute(f"SET {setting} = off")
        try:
            return sites.values("pk", *keys)[:51].explain()
        finally:
            for setting in avoided:
                cursor.execute(f"RESET {setting}")


def count_plan(world, query: str, *, role=Role.SUPPORT, avoid=()) -> str:
    """The plan of the dashboard's capped count for ``query`` (``capped_count``)."""
    organisation = world.provider if role == Role.SUPPORT else world.reseller
    filterset = dashboard_filterset(
        Actor.for_user(world.people[role]), organisation, QueryDict(query)
    )
    assert filterset.is_valid(), filterset.errors
    sites = filterset.matching().order_by().values("pk")[: COUNT_CAP + 1]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sites_site, accounts_organisation, sites_rollout")
    return explain(sites, avoid=avoid)


def explain(queryset, *, avoid=()) -> str:
    """The plan of any ``queryset``, with full scans (and ``avoid``) off."""
    avoided = ["enable_seqscan", *avoid]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sites_rollout, sites_rolloutstep")
        for setting in avoided:
            cursor.execute(f"SET {setting} = off")
        try:
            return queryset.explain()
        finally:
            for setting in avoided:
                cursor.execute(f"RESET {setting}")


# Each dashboard sort (the selector's key, with "-" for descending) and the index that serves it.
SORT_INDEXES = [
    ("name", "site_sort_name"),
    ("-name", "site_sort_name_desc"),
    ("vendor", "site_sort_vendor"),
    ("-vendor", "site_sort_vendor_desc"),
    ("updated", "site_sort_updated"),
    ("-updated", "site_sort_updated_desc"),
    ("probe", "site_sort_probe"),
    ("-probe", "site_sort_probe_desc"),
    ("rollout", "site_sort_rollout"),
    ("-rollout", "site_sort_rollout_desc"),
]


@pytest.mark.parametrize(("sort", "index"), SORT_INDEXES)
def test_each_sort_reads_its_index_in_order_for_every_page(world, sort, index):
    whole_order = ["enable_incremental_sort"]  # the index gives the whole order, not a prefix
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        first = plan(world, f"sort={sort}", role=role, avoid=whole_order)
        assert f"Index Scan using {index} " in first or f"Index Only Scan using {index} " in first
        assert "Sort Key" not in first.split(index)[0]  # no sort of every row above it
        # A deeper page starts the same index at its position (an index condition, not a filter).
        deeper = plan(world, f"sort={sort}", role=role, position=True, avoid=whole_order)
        assert index in deeper
        after_index = deeper.split(index, 1)[1]
        assert "Index Cond" in after_index.split("->")[0]


@pytest.mark.parametrize(
    ("sort", "index", "key"),
    [
        ("updated", "site_sort_updated", "updated_at = "),
        ("-updated", "site_sort_updated_desc", "updated_at = "),
        ("probe", "site_sort_probe", "COALESCE(last_probe_at, "),
        ("-rollout", "site_sort_rollout_desc", "COALESCE(((rollout_steps_finished * 100)"),
    ],
)
def test_a_page_inside_a_group_of_equal_keys_starts_the_index_at_its_position(
    world, sort, index, key
):
    # The bulk sites share one updated_at (and a third were never probed): from a position in
    # such a group, the rest of the group is one range of the index, bounded by the key and the
    # name, not every row of the group up to the position.
    # Inside the group the key is one value, so the sort's index in either direction serves it
    # (name and id ascend in both).
    text = plan(world, f"sort={sort}", same_key=True, avoid=["enable_incremental_sort"])
    either = re.search(
        rf"Index (?:Only )?Scan (?:Backward )?using {index.removesuffix('_desc')}\S* ", text
    )
    assert either, text
    condition = text[either.end() :].split("->")[0]
    assert "Index Cond" in condition and key in condition and "name" in condition, condition


@pytest.mark.parametrize("sort", ["", "organisation", "-organisation"])
def test_the_organisation_sort_walks_organisations_by_name_then_their_sites(world, sort):
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        text = plan(world, f"sort={sort}" if sort else "", role=role)
        assert "sites_dashboard_organisation_name" in text
        # At most one organisation's sites are sorted (by name) at a time, never all of them
        # (at 100,000 sites each organisation's come from site_org_name: docs/benchmarks.md).
        assert "Presorted Key: accounts_organisation.name" in text or "Sort Key" not in text


def test_search_reads_the_trigram_index(world):
    # Not through an index in name order either: the matches are found by the trigram index.
    text = plan(world, "q=north", avoid=["enable_indexscan", "enable_indexonlyscan"])
    assert "site_name_trgm" in text
    assert "Bitmap Index Scan on site_name_trgm" in text and "~~" in text


def test_filters_read_their_indexes(world):
    # The vendor's sites from its index (with a few thousand test rows the planner may as well
    # walk the name index for the page, the vendor being one value: the count shows the index).
    by_vendor = plan(world, "vendor=fortigate&sort=vendor", avoid=["enable_incremental_sort"])
    by_vendor += count_plan(world, "vendor=fortigate", avoid=["enable_bitmapscan"])
    assert re.search(r"Index Cond: \(\(?vendor\)?(::text)? = 'fortigate'::text\)", by_vendor)
    by_match = ["enable_indexscan", "enable_indexonlyscan"]  # found by matching, not in order
    assert "Bitmap Index Scan on site_last_probe_state" in plan(
        world, "flag=failing", avoid=by_match
    )
    # The rollout filter reads the site's copy of its rollout's state, from the index the page
    # walks; the "stalled" flag's subquery on its own (in a plan of the whole page, a few test
    # rows make any index as good as another).
    in_state = plan(world, "rollout=in_progress")
    assert "sites_rollout" not in in_state and "current_rollout_state" in in_state
    # "Stalled" excludes the rollouts with a step marked lately: those steps from their index.
    stalled = explain(
        stalled_instruction_sets(timezone.now()).order_by(), avoid=["enable_bitmapscan"]
    )
    assert "rollout_step_changed" in stalled, stalled
    customer = plan(world, f"organisation={world.customer.slug}&sort=name")
    # One organisation's sites in name order: any index led by (organisation, name) serves it.
    by_name = ("site_org_name", "site_sort_name", "site_name_unique_in_org")
    assert any(index in customer for index in by_name), customer


def test_the_waiting_flag_reads_the_sites_own_row_not_their_runs(world):
    # The site's copy (``waiting_on_customer_until``) instead of a look at its runs per site.
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        page, count = plan(world, "flag=waiting", role=role), count_plan(world, "flag=waiting")
        for text in (page, count):
            assert "sites_proberun" not in text, text
            assert "waiting_on_customer_until >" in text
        # The few sites that wait, from their own index (at 100,000 sites with one in eleven
        # waiting, the covering site_org_name serves it as well: docs/benchmarks.md).
        assert "site_waiting_on_customer" in page or "Index Only Scan using site_org_name" in page
    assert "site_waiting_on_customer" in count_plan(world, "flag=waiting")


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_a_vendor_with_a_rollout_state_and_a_flag_is_counted_from_the_vendor_index_alone(world):
    query = "vendor=meraki&rollout=in_progress&flag=attention"
    with connection.cursor() as cursor:
        # What autovacuum does to the tables soon: an index-only scan needs the pages marked
        # all-visible, or the planner expects to read every row's page anyway.
        cursor.execute("VACUUM ANALYZE sites_site")
    count = count_plan(world, query, avoid=["enable_bitmapscan"])
    assert "Index Only Scan using site_sort_vendor " in count, count
    vendor_scan = count.split("Index Only Scan using site_sort_vendor ", 1)[1].split("->")[0]
    # The rollout state is the site's copy, tested in the index: no rollout per site.
    assert "current_rollout_state" in vendor_scan and "Index Cond: (vendor = " in vendor_scan
    assert "sites_rollout_instruction_set_id" not in count
    # The page walks organisations by name and their sites in site_org_name, testing each one
    # from the index too.
    page = plan(world, query)
    assert "Index Only Scan using site_org_name" in page or "site_sort_vendor" in page, page
    assert "sites_rollout_instruction_set_id" not in page and "sites_proberun" not in page


def test_the_headline_counts_can_be_read_from_the_covering_index_alone(world):
    # Every flag of every covered site (what a worker counts: sites.services.dashboard_counts)
    # can come from site_org_name alone, as long as it carries each column the counts read: at
    # 100,000 sites an index-only scan of 14 MB instead of the table's 206 MB (docs/benchmarks.md;
    # with a test's few small rows the planner rightly prefers the table, so the test compares
    # the columns rather than reading the plan).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE c.relname = 'site_org_name'"
        )
        carried = {name for (name,) in cursor.fetchall()}
    for role, organisation in ((Role.RESELLER_ADMIN, world.reseller), (Role.SUPPORT, None)):
        actor = Actor.for_user(world.people[role])
        with CaptureQueriesContext(connection) as captured:
            flag_counts(actor, organisation or world.provider, now=timezone.now())
        (query,) = captured.captured_queries
        read = set(re.findall(r'"sites_site"\."(\w+)"', query["sql"]))
        assert {"lifecycle", "monitoring_expires_on", "last_probe_state"} <= read
        assert read <= carried, read - carried
