"""The rollout page's probe panel (htmx): a run starts, is checked and ends in place, and the
page's list of recent runs follows it out of band."""

import pytest

from sites.models import ProbeRun, ProbeRunState, Site
from sites.services import probes
from sites.services.sites import update_site
from tests.factories import site_description

pytestmark = pytest.mark.django_db


def htmx(current_url: str) -> dict:
    return {"HX-Request": "true", "HX-Current-URL": f"http://testserver{current_url}"}


def test_a_run_started_in_the_panel_appears_in_the_page_list(world, admin):
    site = world.sites[world.customer.slug]
    page = f"/o/{world.customer.slug}/sites/{site.pk}/"
    response = admin.post(f"{page}probes/", {"direction": "outbound"}, headers=htmx(page))
    assert response.status_code == 200
    body = response.content.decode()
    run = ProbeRun.objects.filter(site=site).latest("pk")
    assert run.token in body  # the commands, in the panel
    assert 'id="probe-runs" hx-swap-oob="true"' in body
    assert f'href="{page}probes/{run.pk}/"' in body and "Waiting for the probe" in body


def test_the_final_poll_updates_the_list_only_on_the_site_page(world, admin):
    site = world.sites[world.customer.slug]
    page = f"/o/{world.customer.slug}/sites/{site.pk}/"
    run = probes.start_probe_run(site=site, direction="outbound")
    run_url = f"{page}probes/{run.pk}/"
    open_poll = admin.get(run_url, headers=htmx(page))
    assert open_poll.status_code == 200 and "probe-runs" not in open_poll.content.decode()

    ProbeRun.objects.filter(pk=run.pk).update(state=ProbeRunState.EXPIRED)
    from_site = admin.get(run_url, headers=htmx(page))
    assert from_site.status_code == 286
    assert 'id="probe-runs" hx-swap-oob="true"' in from_site.content.decode()
    assert "Expired" in from_site.content.decode()
    from_run_page = admin.get(run_url, headers=htmx(run_url))
    assert from_run_page.status_code == 286 and "probe-runs" not in from_run_page.content.decode()


def test_the_inbound_check_is_asked_in_place_and_only_once(world, admin):
    site = world.sites[world.customer.slug]
    site = update_site(
        site=site,
        data=site_description(
            name=site.name,
            public_address="192.0.2.1",
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.7"],
        ),
    )
    from sites.services.instructions import regenerate_site

    regenerate_site(site_id=site.pk)
    run = probes.start_probe_run(site=Site.objects.get(pk=site.pk), direction="inbound")
    page = f"/o/{world.customer.slug}/sites/{site.pk}/"
    check = f"{page}probes/{run.pk}/check/"
    first = admin.post(check, headers=htmx(page))
    assert first.status_code == 200 and "a worker connects to 192.0.2.1" in first.content.decode()
    second = admin.post(check, headers=htmx(page))
    assert second.status_code == 422 and "checked already" in second.content.decode()
    plain = admin.post(check)  # without htmx: back to the run's page
    assert plain.status_code == 302 and plain["Location"].endswith(f"/probes/{run.pk}/")
