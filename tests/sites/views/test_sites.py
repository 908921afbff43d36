"""The site page answers its poll with the ``live`` partial, and a history restore (or a plain
request) with the whole page."""

import pytest

from tests.sites.views.page_or_partial import assert_page_or_partial

pytestmark = pytest.mark.django_db


def test_the_site_page_live_part_is_its_partial(world, admin):
    site = world.sites[world.customer.slug]
    url = f"/o/{world.customer.slug}/sites/{site.pk}/"
    assert_page_or_partial(admin, url, 'id="rollout-summary"')


def test_a_restored_site_page_is_the_whole_page_with_its_steps_and_history(world, admin):
    site = world.sites[world.customer.slug]
    page = admin.get(
        f"/o/{world.customer.slug}/sites/{site.pk}/",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ).content.decode()
    assert "The path, rule by rule" in page and "Versions" in page and 'id="step-1"' in page
