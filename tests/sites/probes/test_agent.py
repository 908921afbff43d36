"""The probe agent: a key per site, the hourly question "am I due?", and the real client using it."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.audit.models import AuditEvent
from sites.models import ProbeRun, ProbeRunState, ProbeSource, Site
from sites.probes.agent import agent_key, read_agent_key
from sites.probes.clients import SCRIPT_PATH, snippets
from sites.services import agent, probes
from sites.services.proof import refresh_proof_summary
from tests.fixtures.worker import wait_for

SECRET = b"k" * 32
POLL = "/probe-agent/runs/"


def poll(key: str | None, client: Client | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return (client or Client()).post(POLL, headers=headers)


def prove(site: Site, *, days_ago: float = 0) -> ProbeRun:
    """A proven outbound run of the site, finished ``days_ago``."""
    run = probes.start_probe_run(site=site, direction="outbound")
    finished = timezone.now() - timedelta(days=days_ago)
    ProbeRun.objects.filter(pk=run.pk).update(state=ProbeRunState.PROVEN, finished_at=finished)
    refresh_proof_summary(site_ids=[site.pk])
    return run


# --- the key ---------------------------------------------------------------------------------


def test_a_key_names_its_site_and_version_and_nothing_else_reads_as_one():
    key = agent_key(SECRET, 42, 3)
    assert key.startswith("obmk.42.3.") and len(key.rsplit(".", 1)[1]) == 22
    read = read_agent_key(SECRET, key)
    assert (read.site_id, read.version) == (42, 3)
    mac = key.rsplit(".", 1)[1]
    forged = [
        f"obmk.43.3.{mac}",  # another site, same MAC
        f"obmk.42.4.{mac}",  # another version
        key[:-1] + ("A" if key[-1] != "A" else "B"),  # altered MAC
        agent_key(b"another portal's key" * 2, 42, 3),
        key + "x",
        "obmk.42.3",
        "",
        "   ",
        None,
        42,
        f"obmk.042.3.{mac}",
        f"obmk.42.0.{mac}",
        key.replace("obmk", "OBMK"),
        key + "\n" + key,
    ]
    for candidate in forged:
        assert read_agent_key(SECRET, candidate) is None, candidate
    with pytest.raises(ValueError):
        agent_key(SECRET, 42, 0)


@pytest.mark.django_db
def test_a_new_key_revokes_the_old_one_and_a_revoked_key_never_comes_back(world):
    site = world.sites[world.customer.slug]
    first = agent.issue_agent_key(site=site)
    assert agent.site_for_agent_key(first) == site
    second = agent.issue_agent_key(site=site)
    assert second != first and agent.site_for_agent_key(second) == site
    for revoked in (first,):
        with pytest.raises(agent.ServiceError):
            agent.site_for_agent_key(revoked)
    agent.revoke_agent_key(site=site)
    with pytest.raises(agent.ServiceError):
        agent.site_for_agent_key(second)
    third = agent.issue_agent_key(site=site)
    assert third not in (first, second)  # the version goes on: an old key stays dead
    actions = list(
        AuditEvent.objects.filter(object_type="sites.site", object_id=str(site.pk))
        .filter(action__startswith="site.agent_key")
        .values_list("action", flat=True)
    )
    assert (
        actions.count("site.agent_key_issued") == 3 and actions.count("site.agent_key_revoked") == 1
    )


# --- the hourly question --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_agent_gets_a_run_only_when_its_site_is_due(world, settings):
    site = world.sites[world.customer.slug]
    key = agent.issue_agent_key(site=site)

    response = poll(key)  # never proven: due
    assert response.status_code == 201, response.content
    body = response.json()
    run = ProbeRun.objects.get(pk=body["run"])
    assert run.source == ProbeSource.AGENT and run.token == body["token"]
    assert body["server"] == settings.PROBE_RESPONDER_HOST and body["tcp"] == [4401]
    started = AuditEvent.objects.get(action="probe.started", object_id=str(run.pk))
    assert started.actor_label == f"probe agent of site #{site.pk}"

    prove(site, days_ago=1)  # proven yesterday, weekly schedule: fresh for six more days
    response = poll(key)
    assert response.status_code == 200 and response.json()["due"] is False
    assert response.json()["fresh_until"].startswith(
        str((timezone.now() + timedelta(days=6)).date())
    )

    Site.objects.filter(pk=site.pk).update(reverify="daily")  # the schedule decides
    prove(site, days_ago=1.5)
    ProbeRun.objects.filter(site=site, state=ProbeRunState.PROVEN).update(
        finished_at=timezone.now() - timedelta(days=1.5)
    )
    refresh_proof_summary(site_ids=[site.pk])
    assert poll(key).status_code == 201

    prove(site)  # fresh again, then the public address changes: due at once
    assert poll(key).json()["due"] is False
    Site.objects.filter(pk=site.pk).update(public_address_changed_at=timezone.now())
    assert poll(key).status_code == 201


@pytest.mark.django_db
def test_the_agent_endpoint_refuses_clearly_and_changes_nothing(world, settings):
    site = world.sites[world.customer.slug]
    key = agent.issue_agent_key(site=site)
    before = ProbeRun.objects.count()
    for bad in (None, "", "not-a-key", key[:-2] + "zz", agent_key(b"x" * 32, site.pk, 1)):
        response = poll(bad)
        assert response.status_code == 401, bad
        assert "agent key is not valid" in response.json()["detail"]
    session = Client()
    session.force_login(world.people["customer_admin"])  # a session is not an agent key
    assert poll(None, session).status_code == 401
    assert Client().get(POLL).status_code == 405

    settings.PROBE_RUNS_PER_SITE = ProbeRun.objects.filter(site=site).count() + 1
    assert poll(key).status_code == 201
    limited = poll(key)
    assert limited.status_code == 429 and "wait a few minutes" in limited.json()["detail"]

    bare = world.sites[world.customer.slug]
    Site.objects.filter(pk=bare.pk).update(current_instruction_set=None)
    settings.PROBE_RUNS_PER_SITE = 100
    conflict = poll(key)
    assert conflict.status_code == 409 and "no instructions" in conflict.json()["detail"]
    assert ProbeRun.objects.count() == before + 1


# --- the page -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_site_page_makes_a_key_shows_it_once_and_revokes_it(world):
    site = world.sites[world.customer.slug]
    url = f"/o/{world.customer.slug}/sites/{site.pk}/agent/"
    admin = Client()
    admin.force_login(world.people["customer_admin"])
    assert "No agent" in admin.get(url).content.decode()

    page = admin.post(url, {"action": "issue"}, follow=True).content.decode()
    site.refresh_from_db()
    key = agent_key(probes.probe_key(), site.pk, site.agent_key_version)
    assert key in page and "crontab" in page and "Register-ScheduledTask" in page
    assert "--agent-key" in page and "http://testserver" in page
    assert key not in admin.get(url).content.decode()  # shown once
    assert "Agent key active" in admin.get(url).content.decode()

    assert admin.post(url, {"action": "nonsense"}).status_code == 422
    assert admin.post(url, {"action": "revoke"}).status_code == 302
    site.refresh_from_db()
    assert not site.agent_enabled

    viewer = Client()
    viewer.force_login(world.people["customer_viewer"])
    assert viewer.post(url, {"action": "issue"}).status_code == 403
    other = world.sites[world.other_customer.slug]
    assert admin.get(f"/o/{world.customer.slug}/sites/{other.pk}/agent/").status_code == 404


def test_the_schedule_lines_quote_nothing_unsafe():
    key = agent_key(SECRET, 7, 1)
    assert key in snippets.agent_cron_line("https://portal.example", key)
    assert key in snippets.agent_scheduled_task("https://portal.example:8443/x", key)
    for url in ("https://a.example/$(reboot)", "ftp://x", "https://a.example/?q=1", "https://u@x"):
        with pytest.raises(ValueError):
            snippets.agent_cron_line(url, key)
    with pytest.raises(ValueError):
        snippets.agent_scheduled_task("https://portal.example", key + "'; Remove-Item")


# --- the real client, as cron runs it -------------------------------------------------------


@pytest.mark.worker
def test_the_scheduled_client_proves_the_site_with_its_agent_key(
    probe_responder, live_server, world
):
    responder = probe_responder
    site = world.sites[world.customer.slug]
    key = agent.issue_agent_key(site=site)

    def run_agent():
        return subprocess.run(
            [
                sys.executable,
                str(SCRIPT_PATH),
                "check",
                "--portal",
                live_server.url,
                "--agent-key",
                key,
                "--timeout",
                "3",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = run_agent()
    assert first.returncode == 0, first.stdout + first.stderr
    assert "opened probe run" in first.stdout and "OK" in first.stdout
    run = ProbeRun.objects.get(site=site, source=ProbeSource.AGENT)

    def proven():
        run.refresh_from_db()
        return run.state == ProbeRunState.PROVEN

    wait_for(proven, timeout=30, process=responder)
    second = run_agent()  # an hour later: fresh, nothing to do
    assert second.returncode == 0 and "Not due" in second.stdout, second.stdout
    assert ProbeRun.objects.filter(site=site, source=ProbeSource.AGENT).count() == 1

    agent.revoke_agent_key(site=site)
    revoked = run_agent()
    assert revoked.returncode == 1 and "HTTP 401" in revoked.stdout and "revoked" in revoked.stdout
