"""The dashboard's pages at any depth: Next and Previous carry the position of a row (keyset
pages), Last reads the order backwards, the count stops at a cap and says so. Every sort, both
ways, walks every site exactly once."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

import sites.selectors.dashboard as dashboard_selectors
from portal.accounts.permissions import Actor
from sites.models import ProbeRunState, Site, StepState
from sites.selectors.dashboard import SORTS, filtered_sites
from sites.services.instructions import regenerate_site
from sites.services.rollouts import mark_step
from tests.factories import ProbeRunFactory, SiteFactory


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 4 and a count that stops at 12, so that a few sites make many pages."""
    monkeypatch.setattr(dashboard_selectors, "PAGE_SIZE", 4)
    monkeypatch.setattr(dashboard_selectors, "COUNT_CAP", 12)
    monkeypatch.setattr(dashboard_selectors, "OFFSET_PAGES", 3)


def seed(world, count):
    """Sites with ties on every sort key: two vendors, equal names in two organisations, probes
    at equal times and none, rollouts at equal progress and none."""
    then = timezone.now() - timedelta(days=2)
    for n in range(count):
        organisation = world.customer if n % 2 else world.sibling_customer
        site = SiteFactory(
            organisation=organisation,
            name=f"Branch {n // 2:02d}",
            vendor=["fortigate", "iptables"][n % 3 == 0],
        )
        if n % 4 == 0:
            regenerate_site(site_id=site.pk)
            if n % 8 == 0:
                site.refresh_from_db()
                mark_step(
                    step=site.current_instruction_set.rollout.steps.first(), state=StepState.DONE
                )
        if n % 3 == 1:
            ProbeRunFactory(
                site=site,
                state=ProbeRunState.PROVEN,
                finished_at=then - timedelta(hours=n % 2),
                created_at=then,
            )
    Site.objects.filter(pk__in=Site.objects.values("pk")[:5]).update(
        updated_at=timezone.now() - timedelta(days=1)
    )


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response


def walk(client, url, direction):
    """Every row from ``url`` following the ``direction`` ("next" or "previous") links."""
    seen, numbers = [], []
    while url:
        response = page(client, url)
        seen.append([row.pk for row in response.context["rows"]])
        numbers.append(response.context["page_obj"].number)
        url = response.context["page_links"].get(direction)
    return seen, numbers


@pytest.mark.django_db
@pytest.mark.parametrize("sort", [*SORTS, *(f"-{key}" for key in SORTS), ""])
def test_next_and_previous_walk_every_site_once_in_order(quiet_world, small_pages, sort):
    world = quiet_world
    seed(world, 19)
    client = Client()
    client.force_login(world.people["reseller_admin"])
    params = {"sort": sort} if sort else {}
    expected = [
        str(pk)
        for pk in filtered_sites(
            Actor.for_user(world.people["reseller_admin"]), world.reseller, params
        ).values_list("pk", flat=True)
    ]
    assert len(expected) == 21  # the seeded sites and the two clients' own
    base = f"/o/{world.reseller.slug}/sites/" + (f"?sort={sort}" if sort else "")

    forward, numbers = walk(client, base, "next")
    assert [pk for rows in forward for pk in rows] == expected
    assert [len(rows) for rows in forward] == [4, 4, 4, 4, 4, 1]
    # Counted to the cap (12): page numbers while they are known, none past it.
    assert numbers[:3] == [1, 2, 3]

    last = page(client, f"{base}{'&' if sort else '?'}page=last")
    backward, _ = walk(client, last.context["page_links"]["previous"], "previous")
    rows_back = [row.pk for row in last.context["rows"]]
    for rows in backward:
        rows_back = rows + rows_back
    assert rows_back == expected
    assert not last.context["page_links"].get("next")


@pytest.mark.django_db
def test_an_exact_count_numbers_every_page_and_the_last_page_lines_up(quiet_world, small_pages):
    world = quiet_world
    seed(world, 8)  # 10 sites: pages of 4, 4, 2
    client = Client()
    client.force_login(world.people["reseller_admin"])
    url = f"/o/{world.reseller.slug}/sites/?sort=name"
    first = page(client, url)
    assert first.context["page_obj"].count == 10 and first.context["page_obj"].num_pages == 3
    assert "page 1 of 3" in first.content.decode()
    last = page(client, first.context["page_links"]["last"])
    assert last.context["page_obj"].number == 3 and len(last.context["rows"]) == 2
    middle = page(client, last.context["page_links"]["previous"])
    assert middle.context["page_obj"].number == 2
    assert [r.pk for r in middle.context["rows"]] == [
        r.pk for r in page(client, first.context["page_links"]["next"]).context["rows"]
    ]
    # Its Previous is the first page itself: no position in the link.
    assert "before" not in middle.context["page_links"]["previous"]
    # An old numbered link still works, and a number past the end is the last page.
    assert [r.pk for r in page(client, f"{url}&page=2").context["rows"]] == [
        r.pk for r in middle.context["rows"]
    ]
    assert page(client, f"{url}&page=99").context["page_obj"].number == 3


@pytest.mark.django_db
def test_a_capped_count_is_shown_as_such(quiet_world, small_pages):
    world = quiet_world
    seed(world, 15)  # 17 sites: more than the cap of 12
    client = Client()
    client.force_login(world.people["reseller_admin"])
    response = page(client, f"/o/{world.reseller.slug}/sites/")
    body = response.content.decode()
    assert response.context["page_obj"].count_capped
    assert "More than 12" in body and "17" not in body.split("More than 12")[1][:40]
    assert response.context["page_obj"].num_pages is None
    # Page numbers stop at the cap: a larger one says so and shows the last numbered page.
    deep = page(client, f"/o/{world.reseller.slug}/sites/?page=7")
    assert deep.context["page_obj"].number == 3
    assert "Page numbers stop at 3" in deep.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "position",
    ["garbage", "W10", "WyJ4Il0", "WzEsMiwzXQ", "eyJhIjoxfQ", "WyJ4IiwieCIsIngiXQ", "%00"],
)
def test_a_tampered_position_shows_the_first_page_and_says_so(quiet_world, small_pages, position):
    world = quiet_world
    seed(world, 6)
    client = Client()
    client.force_login(world.people["reseller_admin"])
    for param in ("after", "before"):
        response = page(client, f"/o/{world.reseller.slug}/sites/?sort=-probe&{param}={position}")
        assert response.context["page_obj"].number == 1
        assert "not a position in this list" in response.content.decode()
        assert len(response.context["rows"]) == 4


@pytest.mark.django_db
def test_position_links_keep_the_filter_and_sort(quiet_world, small_pages):
    world = quiet_world
    seed(world, 12)
    client = Client()
    client.force_login(world.people["reseller_admin"])
    first = page(client, f"/o/{world.reseller.slug}/sites/?vendor=fortigate&sort=-updated")
    following = parse_qs(urlsplit(first.context["page_links"]["next"]).query)
    assert following["vendor"] == ["fortigate"] and following["sort"] == ["-updated"]
    assert "after" in following and following["page"] == ["2"]
