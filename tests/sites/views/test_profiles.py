"""Operators edit a service profile; a real worker re-derives every affected site, with progress."""

import pytest
from django.test import Client

from portal.jobs.models import Job, JobState
from sites.models import InstructionSet, ServiceProfile
from tests.fixtures.worker import wait_for

FORM = {
    "name": "SecuriData Online Backup",
    "datacenter_networks": "198.51.100.0/24",
    "datacenter_fqdns": "",
    "outbound_ports": "tcp 4401",
    "monitoring_ports": "tcp 4403\nudp 4403",
    "monitoring_access_months": "12",
}


def operator_client(world) -> Client:
    client = Client()
    client.force_login(world.people["operator"])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"outbound_ports": "tcp 70000"}, "outbound_ports"),
        ({"outbound_ports": "sctp 4401"}, "outbound_ports"),
        ({"outbound_ports": "4401"}, "outbound_ports"),
        ({"datacenter_networks": "203.0.113.0/40"}, "datacenter_networks"),
        ({"datacenter_fqdns": "not a host name"}, "datacenter_fqdns"),
    ],
)
def test_bad_profile_input_is_refused_with_422_and_changes_nothing(world, changes, field):
    before = ServiceProfile.objects.values().get(pk=world.profile.pk)
    response = operator_client(world).post(
        f"/o/{world.provider.slug}/profiles/{world.profile.pk}/edit/", {**FORM, **changes}
    )
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert ServiceProfile.objects.values().get(pk=world.profile.pk) == before
    assert not Job.objects.filter(kind="rederive_profile").exists()


@pytest.mark.worker
def test_a_profile_change_rederives_every_site_through_the_worker(celery_worker_process, world):
    client = operator_client(world)
    url = f"/o/{world.provider.slug}/profiles/{world.profile.pk}/edit/"
    page = client.get(url)
    assert b"<strong>3</strong> sites using this profile" in page.content
    preview = client.post(url, FORM)  # the impact first (tests/sites/views/test_profile_preview.py)
    assert preview.status_code == 200 and not Job.objects.filter(kind="rederive_profile").exists()
    confirm = {**FORM, "token": preview.context["impact"].token, "confirm": "1", "reason": "New DC"}
    response = client.post(url, confirm)
    assert response.status_code == 302
    job = Job.objects.get(kind="rederive_profile")
    assert response["Location"] == f"/o/{world.provider.slug}/jobs/{job.pk}/"
    assert job.progress_total == 3

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, timeout=120, process=celery_worker_process)
    assert job.state == JobState.SUCCEEDED and job.progress_done == 3
    for site in world.sites.values():
        site.refresh_from_db()
        current = site.current_instruction_set
        assert current.version == 2 and current.profile_revision == 2
        assert any("198.51.100.0/24" in rule.get("datacenter", []) for rule in current.rules)
    assert InstructionSet.objects.count() == 6
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert partial.status_code == 286 and b"3 of 3" in partial.content


@pytest.mark.django_db
@pytest.mark.parametrize("confirm", [False, True])
def test_a_profile_whose_networks_exclude_the_probe_responder_is_refused(world, settings, confirm):
    """#13: the outbound probe must reach the responder through the rules the profile derives,
    so the profile's datacenter networks must hold it (the preview and the save both refuse)."""
    settings.PROBE_RESPONDER_HOST = "203.0.113.10"
    before = ServiceProfile.objects.values().get(pk=world.profile.pk)
    data = {**FORM, "datacenter_networks": "198.51.100.0/24"}
    if confirm:
        data |= {"confirm": "1", "token": "forged", "reason": "New DC"}
    response = operator_client(world).post(
        f"/o/{world.provider.slug}/profiles/{world.profile.pk}/edit/", data
    )
    assert response.status_code == 422
    (error,) = response.context["form"].errors["datacenter_networks"]
    assert "probe responder 203.0.113.10" in error and "outside these networks" in error
    assert ServiceProfile.objects.values().get(pk=world.profile.pk) == before
    assert not Job.objects.filter(kind="rederive_profile").exists()


@pytest.mark.django_db
def test_a_profile_holding_the_probe_responder_is_accepted(world, settings):
    settings.PROBE_RESPONDER_HOST = "198.51.100.10"
    response = operator_client(world).post(
        f"/o/{world.provider.slug}/profiles/{world.profile.pk}/edit/", FORM
    )
    assert response.status_code == 200  # the impact preview, before the confirmation
    assert not response.context["form"].errors
