"""A site over its life: a new version of an applied site is the change plan from what was
applied; removing the monitoring access and decommissioning open removal plans; closure is
proven by the real inbound check failing; decommissioning ends with the site kept, marked."""

import socket
import subprocess
import sys
import time

import pytest

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.models import (
    Lifecycle,
    PlanKind,
    ProbeRunState,
    RolloutState,
    ServiceProfile,
    Site,
    StepState,
)
from sites.probes.clients import SCRIPT_PATH
from sites.services import probes
from sites.services.instructions import regenerate_site
from sites.services.lifecycle import decommission_site, remove_monitoring
from sites.services.rollouts import mark_step
from sites.services.sites import update_site
from sites.tasks import run_inbound_check
from tests.factories import SiteFactory, site_description
from tests.fixtures.ports import free_port

MONITORED = {"monitoring_enabled": True, "monitoring_sources": ["198.51.100.7"]}


def iptables_site(world, *, public_address="192.0.2.1", vendor="iptables", **description) -> Site:
    """A site on iptables (or ``vendor``) with a Linux backup host: renderers that mark what
    they create."""
    site = SiteFactory(
        organisation=world.customer,
        name="Lab office",
        vendor=vendor,
        public_address=public_address,
        description=site_description(
            name="Lab office",
            vendor=vendor,
            host_os="linux",
            public_address=public_address,
            **description,
        ),
    )
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def finish(site: Site) -> None:
    """Every step of the site's current rollout done, as the customer would mark them."""
    site.refresh_from_db()
    for step in site.current_instruction_set.rollout.steps.order_by("position"):
        mark_step(step=step, state=StepState.DONE)
    site.refresh_from_db()


def edit(site: Site, **changes) -> Site:
    Site.objects.filter(pk=site.pk).update(description={**site.description, **changes})
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def steps_of(instruction_set):
    return [step for document in instruction_set.rendered for step in document.steps]


@pytest.mark.django_db
def test_an_applied_site_gets_the_change_plan_and_keeps_the_complete_configuration(world):
    site = iptables_site(world, host_address="192.168.1.10")
    finish(site)
    applied = site.current_instruction_set
    site = edit(site, host_address="192.168.1.20")  # the backup host moved
    plan = site.current_instruction_set
    assert (plan.kind, plan.version, plan.applied_from_id) == (PlanKind.CHANGE, 2, applied.pk)
    actions = [step.action for step in steps_of(plan) if step.action]
    assert "add" in actions and "remove" in actions
    configs = "".join(step.config for step in steps_of(plan))
    assert "192.168.1.20" in configs and "192.168.1.10" in configs  # the new in, the old out
    assert any("192.168.1.20" in change for change in plan.changes)
    complete = "".join(step.config for step in steps_of_complete(plan))
    assert "192.168.1.20" in complete and "192.168.1.10" not in complete
    assert plan.rollout.state == RolloutState.NOT_STARTED  # nothing carried from the complete
    assert plan.rollout.steps_total == len(steps_of(plan))


def steps_of_complete(instruction_set):
    return [step for document in instruction_set.complete_rendered for step in document.steps]


@pytest.mark.django_db
def test_a_site_never_finished_gets_complete_instructions_with_its_progress(world):
    site = iptables_site(world)
    first = site.current_instruction_set.rollout.steps.order_by("position").first()
    mark_step(step=first, state=StepState.DONE)
    site = edit(site, host_address="192.168.1.20")
    current = site.current_instruction_set
    assert current.kind == PlanKind.COMPLETE and current.applied_from_id is None
    assert any("192.168.1.20" in change for change in current.changes)


@pytest.mark.django_db
def test_a_change_with_nothing_to_do_on_the_firewall_is_done_at_once(world):
    site = iptables_site(world)
    finish(site)
    ServiceProfile.objects.filter(pk=site.profile_id).update(name="Renamed backup")
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    current = site.current_instruction_set
    assert current.version == 2 and current.kind == PlanKind.CHANGE
    assert current.rollout.state == RolloutState.DONE and current.rollout.steps_total == 0


@pytest.mark.django_db
def test_a_vendor_without_markers_keeps_complete_instructions_with_the_reasons(
    world, unplannable_vendor
):
    site = iptables_site(world, vendor=unplannable_vendor)
    finish(site)
    site = edit(site, host_address="192.168.1.20")
    current = site.current_instruction_set
    assert current.kind == PlanKind.COMPLETE
    assert any("192.168.1.20" in change for change in current.changes)


@pytest.mark.django_db
def test_removing_monitoring_opens_its_removal_plan_and_turns_it_off(world):
    site = iptables_site(world, **MONITORED)
    finish(site)
    assert site.monitoring_expires_on is not None
    admin = world.people["customer_admin"]
    removal = remove_monitoring(site=site, reason="The MSP stopped monitoring", by=admin)
    site.refresh_from_db()
    assert (removal.kind, removal.removal_scope) == (PlanKind.REMOVAL, "monitoring")
    assert site.current_instruction_set_id == removal.pk
    assert site.as_description().monitoring_enabled is False
    assert site.monitoring_expires_on is None
    steps = steps_of(removal)
    assert {step.action for step in steps if step.action} == {"remove"}
    closing = steps[-1]
    assert {(p.protocol, p.port, p.expect) for p in closing.probes} >= {("tcp", 4403, "closed")}
    assert "The MSP stopped monitoring" in removal.changes and removal.reason
    event = AuditEvent.objects.get(action="site.monitoring_removal_opened")
    assert event.actor_user_id == admin.pk and event.after["reason"] == "The MSP stopped monitoring"
    # The complete configuration of the version is the site without monitoring.
    assert "4403" not in "".join(s.config for s in steps_of_complete(removal))
    with pytest.raises(ServiceError, match="monitoring is off"):
        remove_monitoring(site=site, by=admin)
    # Later versions start from a site without monitoring: regenerating changes nothing.
    assert regenerate_site(site_id=site.pk) == (removal, False)


def _listener(token: str, ports: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(SCRIPT_PATH),
            "listen",
            "--token",
            token,
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


def _wait_bound(port: int, listener: subprocess.Popen) -> None:
    """Until the listener's last TCP port is bound (it binds UDP first), at most 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert listener.poll() is None, listener.stdout.read() if listener.stdout else ""
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                time.sleep(0.2)
                return
        time.sleep(0.1)
    raise AssertionError("the listener did not bind")


@pytest.fixture
def lab_ports(settings):
    """The monitoring ports moved to free loopback ports, and loopback allowed as the "public"
    address (a lab, as in tests/sites/probes/test_probe_runs.py)."""
    ports = {
        "tcp/4403": free_port(),
        "udp/4403": free_port(socket.SOCK_DGRAM),
        "tcp/4401": free_port(),
    }
    settings.PROBE_ALLOW_PRIVATE = True
    settings.SITE_ALLOW_LAB_ADDRESSES = True
    settings.PROBE_INBOUND_PORT_MAP = ports
    return ports


@pytest.mark.django_db(transaction=True)
def test_closure_is_proven_only_when_the_real_inbound_check_fails(world, lab_ports):
    site = iptables_site(world, public_address="127.0.0.1", **MONITORED)
    finish(site)
    removal = remove_monitoring(site=site, reason="No longer monitored")
    closing = removal.rollout.steps.get(title="Prove the monitoring ports are closed")

    # The forward still open (the listener answers from "outside"): not closed.
    still_open = probes.start_probe_run(site=site, direction="inbound", purpose="closure")
    listener = _listener(still_open.token, lab_ports)
    try:
        _wait_bound(lab_ports["tcp/4401"], listener)
        run_inbound_check.run(still_open.pk)
    finally:
        listener.terminate()
        listener.wait(timeout=10)
    still_open.refresh_from_db()
    assert still_open.state == ProbeRunState.FAILED, (
        still_open.outcome,
        list(still_open.observations.values("outcome", "detail")),
    )
    assert still_open.outcome["message"].startswith("Still open")
    closing.refresh_from_db()
    assert closing.state == StepState.PENDING
    site.refresh_from_db()
    assert site.monitoring_closed_at is None

    # Removed: nothing answers any more; the check fails, which proves closure.
    closed = probes.start_probe_run(site=site, direction="inbound", purpose="closure")
    run_inbound_check.run(closed.pk)
    closed.refresh_from_db()
    assert closed.state == ProbeRunState.PROVEN, closed.outcome
    assert closed.outcome["message"].startswith("Closed")
    site.refresh_from_db()
    assert site.monitoring_closed_at == closed.finished_at
    closing.refresh_from_db()
    assert closing.state == StepState.DONE
    assert AuditEvent.objects.filter(action="site.monitoring_closed").count() == 1


@pytest.mark.django_db
def test_a_closure_check_is_inbound_and_a_plain_inbound_check_needs_monitoring(world):
    site = iptables_site(world, **MONITORED)
    finish(site)
    remove_monitoring(site=site)
    site.refresh_from_db()
    with pytest.raises(ServiceError, match="inbound probe"):
        probes.start_probe_run(site=site, direction="outbound", purpose="closure")
    with pytest.raises(ServiceError, match="monitoring is off"):
        probes.start_probe_run(site=site, direction="inbound")


@pytest.mark.django_db
def test_decommissioning_removes_everything_then_marks_the_site_and_keeps_it(world):
    site = iptables_site(world, **MONITORED)
    finish(site)
    admin = world.people["customer_admin"]
    removal = decommission_site(site=site, reason="Office closed", by=admin)
    site.refresh_from_db()
    assert site.lifecycle == Lifecycle.DECOMMISSIONING
    assert (removal.kind, removal.removal_scope) == (PlanKind.REMOVAL, "all")
    assert {s.action for s in steps_of(removal) if s.action} == {"remove"}
    assert removal.complete_documents is None
    started = AuditEvent.objects.get(action="site.decommission_started")
    assert started.after["reason"] == "Office closed" and started.actor_user_id == admin.pk

    # Nothing new while it is being decommissioned: no regeneration, no second removal.
    Site.objects.filter(pk=site.pk).update(
        description={**site.description, "host_address": "192.168.1.99"}
    )
    assert regenerate_site(site_id=site.pk) == (removal, False)
    with pytest.raises(ServiceError, match="decommissioned"):
        decommission_site(site=site, by=admin)
    with pytest.raises(ServiceError, match="decommissioned"):
        update_site(site=site, data={**site.description, "host_address": "192.168.1.98"})

    finish(site)
    assert site.lifecycle == Lifecycle.DECOMMISSIONED and site.decommissioned_at is not None
    assert Site.objects.filter(pk=site.pk).exists()  # kept for the audit trail
    done = AuditEvent.objects.get(action="site.decommissioned")
    assert done.after["lifecycle"] == "decommissioned"


@pytest.mark.django_db
def test_a_removal_needs_instructions_with_markers(world, unplannable_vendor):
    site = iptables_site(world, vendor=unplannable_vendor)
    finish(site)
    with pytest.raises(ServiceError, match="markers"):
        decommission_site(site=site)
    site.refresh_from_db()
    assert site.lifecycle == Lifecycle.ACTIVE and site.current_instruction_set.version == 1
