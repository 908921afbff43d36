"""The dashboard and the bulk job's page answer htmx through ``render_page_or_partial``."""

import pytest

from portal.jobs.models import JobState
from tests.factories import JobFactory
from tests.sites.views.page_or_partial import PARTIAL, assert_page_or_partial

pytestmark = pytest.mark.django_db


def test_the_dashboard_table_is_its_partial(world, admin):
    assert_page_or_partial(admin, f"/o/{world.customer.slug}/sites/", 'id="site-table"')


def test_a_restored_dashboard_carries_no_out_of_band_sort(world, admin):
    """The sort field swapped out of band belongs to the partial only: a whole page has one."""
    url = f"/o/{world.customer.slug}/sites/?sort=name"
    page = admin.get(url, headers={**PARTIAL, "HX-History-Restore-Request": "true"})
    assert page.content.count(b'id="filter-sort"') == 1


def test_a_refused_bulk_action_answers_the_table_with_422(world, admin):
    url = f"/o/{world.customer.slug}/sites/bulk/"
    partial = admin.post(url, {"action": "regenerate"}, headers=PARTIAL)
    assert partial.status_code == 422 and b"<html" not in partial.content
    assert b'id="bulk-errors"' in partial.content and "HX-Request" in partial["Vary"]
    page = admin.post(url, {"action": "regenerate"})
    assert page.status_code == 422 and b"<html" in page.content


def test_the_job_status_is_its_partial_and_stops_polling_when_finished(world, operator):
    url = f"/o/{world.provider.slug}/sites/jobs/{world.jobs[world.provider.slug].pk}/"
    assert_page_or_partial(operator, url, 'id="job-status"')
    finished = JobFactory(organisation=world.provider, state=JobState.SUCCEEDED)
    url = f"/o/{world.provider.slug}/sites/jobs/{finished.pk}/"
    assert_page_or_partial(operator, url, 'id="job-status"', partial_status=286)
