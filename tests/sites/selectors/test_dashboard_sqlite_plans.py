"""On SQLite too, each sort of the dashboard reads its index in order (``EXPLAIN QUERY PLAN``)
instead of sorting every covered site in a temporary b-tree: the sort keys are their indexes'
expressions with the same constants (``sites.models.site.Literal``), and a reseller's sites are
those of its clients by membership, not by a join SQLite would start from."""

import pytest
from django.db import connection
from django.http import QueryDict

from portal.accounts.models import Organisation, OrganisationKind, Role
from portal.accounts.permissions import Actor
from sites.models import Site
from sites.selectors.dashboard import dashboard_filterset
from tests.sites.selectors.test_dashboard_indexes import SORT_INDEXES, with_bulk_sites

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the plans are SQLite's"),
]


@pytest.fixture
def world(world):
    """The world with 3,000 more sites (``with_bulk_sites``), and its reseller with 60 more
    clients of 40 sites each: the shape in which SQLite, given a join to the organisations,
    started from the clients and sorted all their sites."""
    world = with_bulk_sites(world)
    clients = Organisation.objects.bulk_create(
        Organisation(
            name=f"Client {n:02d}",
            slug=f"client-{n:02d}",
            kind=OrganisationKind.CUSTOMER,
            parent=world.reseller,
        )
        for n in range(60)
    )
    Site.objects.bulk_create(
        Site(organisation=client, name=f"Client site {n:02d}", vendor="pfsense")
        for client in clients
        for n in range(40)
    )
    return world


def query_plan(world, query: str, *, role: str, position: bool = False) -> str:
    """SQLite's plan of the dashboard's page query (the ids of one page) for ``query``, one line
    per step; ``position``: the page after the first row, as a Next link asks for it."""
    organisation = world.provider if role == Role.SUPPORT else world.reseller
    filterset = dashboard_filterset(
        Actor.for_user(world.people[role]), organisation, QueryDict(query)
    )
    assert filterset.is_valid(), filterset.errors
    sites, ordering = filterset.matching(), filterset.ordering
    keys = [alias for alias, _, _ in ordering.keys]
    if position:
        row = sites.values("pk", *keys).first()
        sites = sites.filter(ordering.after([row[key] for key in keys]))
    sql, params = sites.values("pk", *keys)[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the statistics of the rows the test made
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[3] for row in cursor.fetchall())


@pytest.mark.parametrize(("sort", "index"), SORT_INDEXES)
def test_each_sort_reads_its_index_in_order_on_sqlite(world, sort, index):
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        first = query_plan(world, f"sort={sort}", role=role)
        assert f"SCAN sites_site USING INDEX {index}\n" in f"{first}\n", first
        assert "TEMP B-TREE" not in first, first
        # A deeper page starts the same index at its position: a search of a range of it.
        deeper = query_plan(world, f"sort={sort}", role=role, position=True)
        assert f"SEARCH sites_site USING INDEX {index} (" in deeper, deeper
        assert "TEMP B-TREE" not in deeper, deeper


def test_the_organisation_sort_sorts_one_organisations_sites_at_a_time_on_sqlite(world):
    for role in (Role.SUPPORT, Role.RESELLER_ADMIN):
        text = query_plan(world, "", role=role)
        assert "SCAN accounts_organisation USING " in text
        assert "INDEX sites_dashboard_organisation_name" in text
        assert "site_org_name (organisation_id=?)" in text
        # Only the right part of the order (each organisation's sites by name), never all of it.
        assert "TEMP B-TREE FOR ORDER BY" not in text, text
