"""Page or partial: an htmx request gets the partial, anything else the whole page, including
htmx's history restore (it re-fetches a page it kept no snapshot of, and swaps in the body)."""

import pytest
from django.test import Client

from portal.jobs.models import JobState
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

PARTIAL = {"HX-Request": "true"}
HISTORY_RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def operator(world) -> Client:
    client = Client()
    client.force_login(world.people["operator"])
    return client


def test_a_finished_job_stops_polling_but_its_history_restore_gets_the_whole_page(world):
    job = JobFactory(organisation=world.provider, state=JobState.SUCCEEDED)
    url = f"/o/{world.provider.slug}/jobs/{job.pk}/"
    client = operator(world)

    partial = client.get(url, headers=PARTIAL)
    assert partial.status_code == 286
    assert b'id="job-status"' in partial.content and b"<html" not in partial.content

    restore = client.get(url, headers=HISTORY_RESTORE)
    assert restore.status_code == 200
    assert b"<html" in restore.content and b'id="job-status"' in restore.content
    for response in (partial, restore, client.get(url)):
        assert "HX-Request" in response["Vary"]


def test_an_audit_search_restored_from_history_is_the_whole_page(world):
    url = f"/o/{world.provider.slug}/audit/?action=site.*"
    client = operator(world)
    assert b"<html" not in client.get(url, headers=PARTIAL).content
    assert b"<html" in client.get(url, headers=HISTORY_RESTORE).content


def test_an_invalid_audit_search_restored_from_history_is_swapped_in_whole(world):
    url = f"/o/{world.provider.slug}/audit/?date_from=not-a-day"
    client = operator(world)
    partial = client.get(url, headers=PARTIAL)
    assert partial.status_code == 422 and partial["HX-Reswap"] == "none"
    restore = client.get(url, headers=HISTORY_RESTORE)
    assert restore.status_code == 422 and b"<html" in restore.content
    assert "HX-Reswap" not in restore
