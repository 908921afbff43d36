"""Probe runs end to end: the real responder process, the real client script, the database.

The responder runs as `manage.py probe_responder` against the test database, on free high ports
(PROBE_PORT_MAP); the client is the downloadable obm_probe.py; the inbound check connects to the
client's listen mode on loopback (PROBE_ALLOW_PRIVATE, as in a lab).
"""

import socket
import subprocess
import sys
import time

import pytest
from django.test import Client

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.models import ProbeObservation, ProbeRun, ProbeRunState, StepState
from sites.probes.clients import SCRIPT_PATH
from sites.services import probes
from sites.services.instructions import regenerate_site
from sites.services.sites import update_site
from sites.tasks import run_inbound_check
from tests.factories import site_description
from tests.fixtures.ports import free_port
from tests.fixtures.worker import wait_for


@pytest.fixture
def responder(probe_responder):
    """The real responder process (tests/fixtures/probe_responder.py)."""
    return probe_responder


def client_check(token: str, ports: dict, *, tcp=(4401,), udp=()) -> subprocess.CompletedProcess:
    args = [
        sys.executable,
        str(SCRIPT_PATH),
        "check",
        "--server",
        "127.0.0.1",
        "--token",
        token,
        "--timeout",
        "3",
    ]
    if tcp:
        args += ["--tcp", ",".join(map(str, tcp))]
    if udp:
        args += ["--udp", ",".join(map(str, udp))]
    args += ["--port-map", ",".join(f"{k}={v}" for k, v in ports.items())]
    return subprocess.run(args, capture_output=True, text=True, timeout=30)


def settled(run):
    def check():
        run.refresh_from_db()
        return not run.is_open

    return check


@pytest.mark.worker
def test_the_backup_host_probe_proves_4401_and_completes_the_verify_step(responder, world):
    site = world.sites[world.customer.slug]
    run = probes.start_probe_run(site=site, direction="outbound", by=world.people["customer_admin"])
    result = client_check(run.token, responder.ports)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TCP 4401  OK" in result.stdout and "127.0.0.1" in result.stdout

    wait_for(settled(run), timeout=30, process=responder)
    assert run.state == ProbeRunState.PROVEN
    observation = run.observations.get(outcome="ok")
    assert (observation.protocol, observation.port, observation.observed_ip) == (
        "tcp",
        4401,
        "127.0.0.1",
    )
    # The site declares 192.0.2.1 as its public address: the portal says the NAT differs.
    assert "not from the site's public address 192.0.2.1" in run.outcome["nat_warning"]
    verify = site.current_instruction_set.rollout.steps.get(
        title="Prove the backup connection gets out"
    )
    assert verify.state == StepState.DONE and f"#{run.pk}" in verify.note

    # The same token again on the same port is a replay: refused, recorded, nothing duplicated.
    again = client_check(run.token, responder.ports)
    assert again.returncode == 1 and "REFUSED" in again.stdout and "REPLAYED" in again.stdout
    wait_for(
        lambda: ProbeObservation.objects.filter(run=run, outcome="REPLAYED").exists(), timeout=30
    )
    assert ProbeObservation.objects.filter(run=run, outcome="ok").count() == 1

    page = Client()
    page.force_login(world.people["customer_admin"])
    body = page.get(f"/o/{world.customer.slug}/sites/{site.pk}/probes/{run.pk}/").content.decode()
    assert "Proven" in body and "REPLAYED" in body


@pytest.mark.worker
def test_unknown_and_expired_tokens_are_refused_and_recorded(responder, world):
    from sites.probes.tokens import issue_token

    forged = issue_token(b"not the portal's key", 999, int(time.time()) + 600)
    result = client_check(forged, responder.ports)
    assert result.returncode == 1 and "UNKNOWN" in result.stdout
    expired = issue_token(probes.probe_key(), 999, int(time.time()) - 1)
    result = client_check(expired, responder.ports)
    assert result.returncode == 1 and "EXPIRED" in result.stdout
    wait_for(
        lambda: ProbeObservation.objects.filter(outcome__in=["UNKNOWN", "EXPIRED"]).count() == 2,
        timeout=30,
    )
    assert not ProbeObservation.objects.filter(run__isnull=False).exists()


@pytest.mark.worker
def test_a_restriction_run_fails_when_another_machine_gets_through(responder, world):
    site = world.sites[world.customer.slug]
    run = probes.start_probe_run(site=site, direction="outbound", purpose="restriction")
    client_check(run.token, responder.ports)
    wait_for(settled(run), timeout=30, process=responder)
    assert run.state == ProbeRunState.FAILED
    assert "not restricted" in run.outcome["message"]


@pytest.mark.django_db
def test_a_silent_restriction_run_is_proof_once_it_expires(world):
    site = world.sites[world.customer.slug]
    run = probes.start_probe_run(site=site, direction="outbound", purpose="restriction")
    ProbeRun.objects.filter(pk=run.pk).update(expires_at=run.expires_at.replace(year=2000))
    assert probes.expire_probe_runs() >= 1
    run.refresh_from_db()
    assert run.state == ProbeRunState.PROVEN


@pytest.fixture
def monitored_site(world):
    site = world.sites[world.customer.slug]
    site = update_site(
        site=site,
        data=site_description(
            name=site.name,
            public_address="127.0.0.1",
            monitoring_enabled=True,
            monitoring_sources=["198.51.100.7"],
        ),
    )
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


@pytest.mark.django_db(transaction=True)
def test_the_inbound_check_proves_the_forwarded_ports_through_the_listener(
    monitored_site, settings, tmp_path
):
    ports = {
        "tcp/4403": free_port(),
        "udp/4403": free_port(socket.SOCK_DGRAM),
        "tcp/4401": free_port(),
    }
    settings.PROBE_ALLOW_PRIVATE = True  # a lab: the "public" address is loopback
    settings.PROBE_INBOUND_PORT_MAP = ports
    run = probes.start_probe_run(site=monitored_site, direction="inbound")
    assert {(e["protocol"], e["port"]) for e in run.expected} == {
        ("tcp", 4403),
        ("udp", 4403),
        ("tcp", 4401),
    }
    listener = subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT_PATH),
            "listen",
            "--token",
            run.token,
            "--bind",
            "127.0.0.1",
            "--tcp",
            f"{ports['tcp/4403']},{ports['tcp/4401']}",
            "--udp",
            str(ports["udp/4403"]),
            "--duration",
            "30",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(0.5)  # let it bind
        run_inbound_check.run(run.pk)  # what the worker runs
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    run.refresh_from_db()
    assert run.state == ProbeRunState.PROVEN, run.outcome
    assert run.observations.filter(outcome="ok").count() == 3
    step = monitored_site.current_instruction_set.rollout.steps.get(
        title="Prove the monitoring ports are reachable from outside"
    )
    assert step.state == StepState.DONE


@pytest.mark.django_db
def test_the_inbound_check_never_probes_a_forbidden_address(monitored_site):
    run = probes.start_probe_run(site=monitored_site, direction="inbound")
    run_inbound_check.run(run.pk)  # PROBE_ALLOW_PRIVATE is off: 127.0.0.1 is loopback
    run.refresh_from_db()
    assert run.state == ProbeRunState.FAILED
    assert run.outcome["message"].startswith("Not probed:") and "loopback" in run.outcome["message"]
    assert not run.observations.exists()
    run_inbound_check.run(run.pk)  # delivered twice: nothing more happens
    assert AuditEvent.objects.filter(action="probe.failed", object_id=str(run.pk)).count() == 1


@pytest.mark.django_db
def test_probes_are_rate_limited_per_site_and_per_organisation(world, settings):
    settings.PROBE_RUNS_PER_SITE = 3
    settings.PROBE_RUNS_PER_ORGANISATION = 4
    site = world.sites[world.customer.slug]
    already = ProbeRun.objects.filter(site=site).count()  # the world's own run
    for _ in range(3 - already):
        probes.start_probe_run(site=site, direction="outbound")
    with pytest.raises(ServiceError, match="This site was probed many times"):
        probes.start_probe_run(site=site, direction="outbound")


@pytest.mark.django_db
def test_inbound_needs_monitoring_and_a_fixed_public_address(world):
    site = world.sites[world.customer.slug]
    with pytest.raises(ServiceError, match="Remote monitoring is off"):
        probes.start_probe_run(site=site, direction="inbound")
