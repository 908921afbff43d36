"""Configuration checks (sites.services.analysis): refused input changes nothing, secrets are
redacted before anything is written, the worker keeps only the result and the cited lines, runs
twice without harm, and steps already in place carry their evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from sites.models import AnalysisState, ConfigAnalysis, ConfigAnalysisInput, Site, StepState
from sites.services import analysis as service
from sites.services.instructions import regenerate_site
from tests.factories import ConfigAnalysisFactory, SiteFactory, site_description

pytestmark = pytest.mark.django_db

# The backup host let out and translated, a stateful FORWARD with a drop policy; no inbound
# port-forward. The admin's password hash rides along as a comment a customer might leave.
PARTIAL = """\
# admin password hash: $6$rounds=5000$SaltSalt$Hash
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -s 192.168.1.10/32 -p tcp -m tcp --dport 4401 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
"""
WIDE_OPEN = PARTIAL.replace(
    "-A FORWARD -i eth1 -o eth0 -s 192.168.1.10/32 -p tcp -m tcp --dport 4401 -j ACCEPT",
    "-A FORWARD -i eth1 -o eth0 -j ACCEPT",
)
ASA_WITH_SECRETS = """\
ASA Version 9.16(4)
hostname fw
enable password 8Ry2YjIyt7RRXU24 encrypted
username admin password Xq3LkP9vWm2RtY7s encrypted privilege 15
snmp-server community Pr1vC0mmRW
interface GigabitEthernet1/1
 nameif outside
 security-level 0
 ip address 192.0.2.1 255.255.255.0
interface GigabitEthernet1/2
 nameif inside
 security-level 100
 ip address 192.168.1.1 255.255.255.0
object network obj_any
 subnet 0.0.0.0 0.0.0.0
 nat (any,outside) dynamic interface
"""


def iptables_site(organisation, *, monitoring=False, **changes) -> Site:
    description = site_description(
        vendor="iptables",
        inside_interface="eth1",
        outside_interface="eth0",
        monitoring_enabled=monitoring,
        monitoring_sources=["198.51.100.7/32"] if monitoring else [],
        host_os="linux",
        **changes,
    )
    site = SiteFactory(
        organisation=organisation, vendor=description["vendor"], description=description
    )
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def run(analysis: ConfigAnalysis) -> ConfigAnalysis:
    service.run_analysis(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    return analysis


def test_refused_input_names_the_field_and_writes_nothing(world):
    site = world.sites[world.customer.slug]
    cases = [
        ({"vendor": "sonicwall", "config": PARTIAL}, "vendor"),
        ({"vendor": "iptables", "config": ""}, "config"),
        ({"vendor": "iptables", "config": "  \n "}, "config"),
        ({"vendor": "iptables", "config": b"\x00\x01binary"}, "config"),
        ({"vendor": "iptables", "config": b"\xff\xfe not utf-8"}, "config"),
        ({"vendor": "iptables", "config": "x" * 5_000_001}, "config"),
        ({"vendor": "iptables", "config": "-A FORWARD\n" * 100_001}, "config"),
    ]
    events = AuditEvent.objects.count()
    for arguments, field in cases:
        with pytest.raises(ServiceError) as raised:
            service.request_analysis(site=site, **arguments)
        assert raised.value.field == field, (arguments["vendor"], raised.value.errors)
    assert "5 MB" in str(_error(site, "x" * 5_000_001))
    assert ConfigAnalysis.objects.count() == 0 and AuditEvent.objects.count() == events


def _error(site, config):
    with pytest.raises(ServiceError) as raised:
        service.request_analysis(site=site, vendor="iptables", config=config)
    return raised.value


def test_secrets_are_redacted_before_anything_is_written(world, django_capture_on_commit_callbacks):
    site = world.sites[world.customer.slug]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        analysis = service.request_analysis(
            site=site, vendor="cisco-asa", config=ASA_WITH_SECRETS.encode(), source_name="asa.txt"
        )
    assert len(callbacks) == 1  # the task, after the commit
    waiting = ConfigAnalysisInput.objects.get(analysis=analysis)
    for secret in ("8Ry2YjIyt7RRXU24", "Xq3LkP9vWm2RtY7s", "Pr1vC0mmRW"):
        assert secret not in waiting.text
    assert len(waiting.text.splitlines()) == len(ASA_WITH_SECRETS.splitlines())
    assert analysis.redacted_count == 3 and analysis.state == AnalysisState.QUEUED
    assert analysis.instruction_set_id == site.current_instruction_set_id
    event = AuditEvent.objects.get(action="analysis.requested")
    assert event.after["secrets_redacted"] == 3 and "8Ry2" not in str(event.after)

    analysis = run(analysis)
    assert analysis.state == AnalysisState.DONE
    assert not ConfigAnalysisInput.objects.filter(analysis=analysis).exists()
    stored = str(analysis.result) + str(analysis.details) + str(analysis.excerpts)
    assert "8Ry2YjIyt7RRXU24" not in stored and "Pr1vC0mmRW" not in stored
    finished = AuditEvent.objects.get(action="analysis.finished")
    assert set(finished.after["verdicts"].values()) <= {"allowed", "blocked", "unknown"}
    assert "obj_any" not in str(finished.after)  # verdicts, not the configuration


def test_only_the_cited_lines_and_their_context_are_kept(world):
    site = iptables_site(world.customer)
    analysis = run(service.request_analysis(site=site, vendor="iptables", config=PARTIAL))
    cited = {
        line["line"] for flow in analysis.result["flows"] for line in flow["lines"] if line["line"]
    }
    kept = {int(n) for n in analysis.excerpts}
    assert cited <= kept
    assert all(any(abs(n - c) <= service.CONTEXT_LINES for c in cited) for n in kept)
    assert 1 not in kept  # the comment with the hash is far from every cited line
    assert len(kept) < len(PARTIAL.splitlines())


def test_the_result_has_the_command_line_json_shape_and_the_steps_in_place(world):
    site = iptables_site(world.customer)
    analysis = run(service.request_analysis(site=site, vendor="iptables", config=PARTIAL))
    result = analysis.result
    assert set(result) == {"vendor", "flows", "unrecognised", "missing_steps"}
    assert [f["verdict"] for f in result["flows"]] == ["allowed", "blocked"]
    first = result["flows"][0]
    assert set(first) == {
        "flow",
        "verdict",
        "translated_source",
        "translated_destination",
        "lines",
        "reason",
    }
    assert first["translated_source"] == "192.0.2.1"
    assert result["missing_steps"] == []
    in_place = analysis.details["steps_in_place"]
    assert in_place and all(step["lines"] for step in in_place)
    lines = {line["line"] for step in in_place for line in step["lines"]}
    assert {4, 7, 14} <= lines  # the drop policy, the accept and the masquerade
    assert analysis.details["flows"][0]["as_required"] is True


def test_missing_steps_are_not_shown_in_place(world):
    site = iptables_site(world.customer, monitoring=True)
    analysis = run(service.request_analysis(site=site, vendor="iptables", config=PARTIAL))
    assert analysis.result["missing_steps"]
    titles = {step["title"] for step in analysis.details["steps_in_place"]}
    assert not titles & set(analysis.result["missing_steps"])


def test_a_broader_rule_is_warned_about(world):
    site = iptables_site(world.customer)
    analysis = run(service.request_analysis(site=site, vendor="iptables", config=WIDE_OPEN))
    flows = analysis.details["flows"]
    assert analysis.result["flows"][1]["verdict"] == "allowed"  # another LAN host gets out
    assert any("line 7" in w for w in flows[1]["warnings"])
    assert any("also lets TCP 4402" in w for w in flows[0]["warnings"])


def test_a_configuration_that_cannot_be_read_fails_with_its_reason_and_leaves_nothing(world):
    site = world.sites[world.customer.slug]
    analysis = service.request_analysis(site=site, vendor="pfsense", config="<pfsense><oops>")
    analysis = run(analysis)
    assert analysis.state == AnalysisState.FAILED and "well-formed XML" in analysis.error
    assert not ConfigAnalysisInput.objects.exists()
    assert AuditEvent.objects.get(action="analysis.finished").after["state"] == "failed"


def test_running_twice_changes_nothing_more(world):
    site = iptables_site(world.customer)
    analysis = run(service.request_analysis(site=site, vendor="iptables", config=PARTIAL))
    finished_at = analysis.finished_at
    assert service.run_analysis(analysis_id=analysis.pk) is None
    analysis.refresh_from_db()
    assert analysis.finished_at == finished_at and analysis.attempts == 1
    assert AuditEvent.objects.filter(action="analysis.finished").count() == 1


def test_a_second_delivery_leaves_a_check_a_live_worker_analyses_alone(world):
    """A duplicate message (a re-send while the first delivery still runs) claims nothing."""
    site = iptables_site(world.customer)
    analysis = service.request_analysis(site=site, vendor="iptables", config=PARTIAL)
    ConfigAnalysis.objects.filter(pk=analysis.pk).update(
        state=AnalysisState.ANALYSING, started_at=timezone.now(), attempts=service.MAX_ATTEMPTS
    )
    assert service.run_analysis(analysis_id=analysis.pk) is None
    analysis.refresh_from_db()
    assert analysis.state == AnalysisState.ANALYSING and analysis.attempts == service.MAX_ATTEMPTS
    assert ConfigAnalysisInput.objects.filter(analysis=analysis).exists()


def test_a_check_its_worker_died_on_is_claimed_again_then_given_up(world, settings):
    site = iptables_site(world.customer)
    analysis = service.request_analysis(site=site, vendor="iptables", config=PARTIAL)
    dead_since = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 5)
    ConfigAnalysis.objects.filter(pk=analysis.pk).update(
        state=AnalysisState.ANALYSING, started_at=dead_since, attempts=1
    )
    analysis = service.run_analysis(analysis_id=analysis.pk)
    assert analysis.state == AnalysisState.DONE and analysis.attempts == 2

    again = service.request_analysis(site=site, vendor="iptables", config=PARTIAL)
    ConfigAnalysis.objects.filter(pk=again.pk).update(
        state=AnalysisState.ANALYSING, started_at=dead_since, attempts=service.MAX_ATTEMPTS
    )
    assert service.run_analysis(analysis_id=again.pk) is None
    again.refresh_from_db()
    assert again.state == AnalysisState.FAILED and "3 times" in again.error
    assert not ConfigAnalysisInput.objects.exists()


def test_the_sweeper_resends_lost_and_dead_checks_and_fails_exhausted_ones(
    world, settings, monkeypatch
):
    sent = []
    monkeypatch.setattr(service.queue, "enqueue", lambda name, *args: sent.append((name, args)))
    site = iptables_site(world.customer)
    lost, dead, exhausted = (
        service.request_analysis(site=site, vendor="iptables", config=PARTIAL) for _ in range(3)
    )
    busy = ConfigAnalysisFactory(site=site, state=AnalysisState.ANALYSING)
    old = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 5)
    ConfigAnalysis.objects.filter(pk=lost.pk).update(created_at=old)
    ConfigAnalysis.objects.filter(pk=dead.pk).update(
        state=AnalysisState.ANALYSING, started_at=old, created_at=old, attempts=1
    )
    ConfigAnalysis.objects.filter(pk=exhausted.pk).update(
        state=AnalysisState.ANALYSING, started_at=old, attempts=service.MAX_ATTEMPTS
    )
    ConfigAnalysis.objects.filter(pk=busy.pk).update(started_at=timezone.now(), created_at=old)
    assert service.sweep_analyses() == 3
    assert sorted(sent) == [
        (service.ANALYSE_CONFIGURATION, (lost.pk,)),
        (service.ANALYSE_CONFIGURATION, (dead.pk,)),
    ]
    exhausted.refresh_from_db()
    assert exhausted.state == AnalysisState.FAILED
    assert not ConfigAnalysisInput.objects.filter(analysis=exhausted).exists()


def test_too_many_waiting_checks_are_refused(world):
    site = iptables_site(world.customer)
    for _ in range(service.OPEN_PER_SITE):
        service.request_analysis(site=site, vendor="iptables", config=PARTIAL)
    with pytest.raises(ServiceError, match="already waiting"):
        service.request_analysis(site=site, vendor="iptables", config=PARTIAL)


def test_a_step_in_place_is_marked_done_with_the_evidence_only_when_asked(world):
    site = iptables_site(world.customer)
    analysis = run(service.request_analysis(site=site, vendor="iptables", config=PARTIAL))
    rollout = site.current_instruction_set.rollout
    assert not rollout.steps.filter(state=StepState.DONE).exists()  # nothing marked silently
    number = analysis.details["steps_in_place"][0]["number"]
    step = rollout.steps.get(vendor="iptables", number=number)
    person = world.people["customer_admin"]
    marked = service.mark_step_in_place(analysis=analysis, step=step, by=person)
    assert marked.state == StepState.DONE and marked.changed_by == person
    assert marked.note.startswith("Already in place (line ") and f"#{analysis.pk}" in marked.note
    shown = [step["number"] for step in analysis.details["steps_in_place"]]
    other = rollout.steps.exclude(number__in=shown).first()
    with pytest.raises(ServiceError, match="does not show"):
        service.mark_step_in_place(analysis=analysis, step=other, by=person)


@pytest.mark.worker
def test_a_check_through_a_real_worker_settles_and_leaves_no_text(celery_worker_process, world):
    """The page's form → the task after the commit → a real ``celery worker`` process on the
    configured broker analyses it and deletes the waiting text."""
    from django.test import Client

    from tests.fixtures.worker import wait_for

    site = iptables_site(world.customer)
    client = Client()
    client.force_login(world.people["customer_admin"])
    response = client.post(
        f"/o/{world.customer.slug}/sites/{site.pk}/analyses/new/",
        {"vendor": "cisco-asa", "config": ASA_WITH_SECRETS},
    )
    assert response.status_code == 302
    analysis = ConfigAnalysis.objects.get()

    def settled():
        analysis.refresh_from_db()
        return not analysis.is_open

    wait_for(settled, timeout=120, interval=0.1, process=celery_worker_process)
    assert analysis.state == AnalysisState.DONE, analysis.error
    assert analysis.attempts == 1 and not ConfigAnalysisInput.objects.exists()
    finished = AuditEvent.objects.get(action="analysis.finished")
    assert finished.source == "worker" and finished.actor_user_id is None
    assert "Xq3LkP9vWm2RtY7s" not in str(analysis.result) + str(analysis.excerpts)


def test_hostile_xml_fails_the_check_with_a_clear_reason(world):
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
        "<pfsense><system>&lol2;</system></pfsense>\n"
    )
    site = world.sites[world.customer.slug]
    analysis = run(service.request_analysis(site=site, vendor="pfsense", config=bomb))
    assert analysis.state == AnalysisState.FAILED and "DTD or entities" in analysis.error
    assert not ConfigAnalysisInput.objects.exists()


def test_nft_json_keeps_the_cited_rules_but_no_context(world):
    """For ``nft -j`` a cited "line" is the rule's position in the JSON array: no text lines
    around it to keep."""
    from pathlib import Path

    site = iptables_site(world.customer)
    data = Path("tests/sites/analyzer/data/forward.json").read_text()
    analysis = run(service.request_analysis(site=site, vendor="nftables", config=data))
    assert analysis.state == AnalysisState.DONE and analysis.excerpts == {}
    assert any(flow["lines"] for flow in analysis.result["flows"])
