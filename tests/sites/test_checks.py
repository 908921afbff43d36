"""The probe addressing checks (#13): registered at start-up, they find a responder outside a
profile's datacenter networks and probe settings the instructions cannot use."""

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from sites.checks import check_probe_addressing
from sites.models import ServiceProfile


def ids(messages) -> list[str]:
    return sorted(message.id for message in messages)


@pytest.fixture
def served(settings):
    """A portal whose responder is inside the guide profile's 203.0.113.0/24."""
    settings.PROBE_RESPONDER_HOST = "203.0.113.10"
    settings.PROBE_CHECK_SOURCE = "198.51.100.200"
    return settings


@pytest.mark.django_db
def test_a_well_addressed_portal_passes(served):
    assert check_probe_addressing() == []


@pytest.mark.django_db
def test_a_responder_outside_a_profiles_networks_is_reported_with_a_hint(served):
    ServiceProfile.objects.create(
        name="Other product",
        slug="other",
        datacenter_networks=["198.51.100.0/24"],
        outbound_ports=[{"protocol": "tcp", "port": 4401}],
    )
    (message,) = check_probe_addressing()
    assert message.id == "sites.W001" and message.level == checks.WARNING
    assert "203.0.113.10" in message.msg and "'Other product'" in message.msg
    assert "198.51.100.0/24" in message.msg
    assert "datacenter networks" in message.hint and "PROBE_RESPONDER_HOST" in message.hint


@pytest.mark.django_db
def test_it_runs_at_start_up_with_the_other_system_checks(served):
    served.PROBE_RESPONDER_HOST = "192.0.2.50"  # outside the default profile
    served.SILENCED_SYSTEM_CHECKS = []
    with pytest.raises(SystemCheckError, match="sites.W001"):
        call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_a_loopback_responder_is_a_lab_and_passes(served):
    served.PROBE_RESPONDER_HOST = "127.0.0.1"
    assert check_probe_addressing() == []


@pytest.mark.django_db
def test_probe_settings_the_instructions_cannot_use_are_reported(served):
    served.PROBE_RESPONDER_HOST = "probe.example.net"
    served.PROBE_CHECK_SOURCE = ""
    assert ids(check_probe_addressing()) == ["sites.W002", "sites.W003"]
    served.PROBE_CHECK_SOURCE = "not-an-address"
    errors = [m for m in check_probe_addressing() if m.level >= checks.ERROR]
    assert ids(errors) == ["sites.E001"]
