"""Probe pages: the run's page polls its ``status`` partial; starting a run or an inbound check
from the site's probe panel answers a fragment of the run's page, a plain post redirects."""

import pytest

from sites.models import ProbeRunState
from tests.factories import ProbeAttemptFactory, ProbeObservationFactory
from tests.sites.views.page_or_partial import PARTIAL, assert_page_or_partial

pytestmark = pytest.mark.django_db


def run_url(world, run) -> str:
    return f"/o/{world.customer.slug}/sites/{run.site_id}/probes/{run.pk}/"


def test_the_run_status_is_its_partial(world, admin):
    run = world.probe_runs[world.customer.slug]
    assert_page_or_partial(admin, run_url(world, run), 'id="probe-status"')


def test_a_closed_run_stops_polling_and_its_restored_page_keeps_the_commands_slot(world, admin):
    run = world.probe_runs[world.customer.slug]
    run.state = ProbeRunState.EXPIRED
    run.save(update_fields=["state"])
    assert_page_or_partial(admin, run_url(world, run), 'id="probe-status"', partial_status=286)
    restored = admin.get(
        run_url(world, run), headers={**PARTIAL, "HX-History-Restore-Request": "true"}
    )
    assert b'id="probe-commands" hx-swap-oob' not in restored.content


def test_the_run_page_shows_observations_and_attempts(world, admin):
    observation = ProbeObservationFactory(
        run=world.probe_runs[world.customer.slug], detail="seen at 198.51.100.9"
    )
    attempt = ProbeAttemptFactory(
        run__site=world.sites[world.customer.slug], detail="connected on 4403"
    )
    assert observation.detail in admin.get(run_url(world, observation.run)).content.decode()
    assert attempt.detail in admin.get(run_url(world, attempt.run)).content.decode()


def test_starting_a_run_answers_the_panel_or_redirects(world, admin):
    site = world.sites[world.customer.slug]
    url = f"/o/{world.customer.slug}/sites/{site.pk}/probes/"
    panel = admin.post(url, {"direction": "outbound"}, headers=PARTIAL)
    assert panel.status_code == 200 and b"<html" not in panel.content
    assert b'id="probe-commands"' in panel.content and "HX-Request" in panel["Vary"]
    refused = admin.post(url, {"direction": "sideways"}, headers=PARTIAL)
    assert refused.status_code == 422 and b'role="alert"' in refused.content
    plain = admin.post(url, {"direction": "outbound"})
    assert plain.status_code == 302 and "/probes/" in plain["Location"]
