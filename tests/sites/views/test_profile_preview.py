"""A profile change is announced before it lands: the operator sees its impact, confirms it
with a reason (a stale or altered preview is refused), and the organisations whose sites change
are told; a finished rollout becomes "change needed" with that reason, never a silent drop."""

import pytest
from django.test import Client

from portal.audit.models import AuditEvent
from portal.jobs.models import Job
from sites import tasks
from sites.models import Notice, PlanKind, RolloutState, ServiceProfile, Site, StepState
from sites.services import notices, queue
from sites.services.instructions import regenerate_site
from sites.services.profiles import STALE_PREVIEW, update_service_profile
from sites.services.rollouts import mark_step
from tests.factories import site_description

FORM = {
    "name": "SecuriData Online Backup",
    "datacenter_networks": "203.0.113.0/24\n198.51.100.0/24",
    "datacenter_fqdns": "",
    "outbound_ports": "tcp 4401",
    "monitoring_ports": "tcp 4403\nudp 4403",
    "monitoring_access_months": "12",
}
REASON = "The provider added 198.51.100.0/24 to its datacenter networks on 2026-12-07."


def operator(world) -> Client:
    client = Client()
    client.force_login(world.people["operator"])
    return client


def edit_url(world) -> str:
    return f"/o/{world.provider.slug}/profiles/{world.profile.pk}/edit/"


def iptables_site(site: Site) -> Site:
    """``site`` on an iptables firewall with a Linux backup host: renderers with markers, so its
    versions can be change plans."""
    Site.objects.filter(pk=site.pk).update(
        vendor="iptables",
        description=site_description(name=site.name, vendor="iptables", host_os="linux"),
    )
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site


def finish_rollout(site: Site) -> None:
    site.refresh_from_db()
    for step in site.current_instruction_set.rollout.steps.all():
        mark_step(step=step, state=StepState.DONE)


@pytest.fixture
def sent(monkeypatch):
    """The tasks services send, by name (run here by the test, as a worker would)."""
    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args: sent.append((name, args)))
    return sent


def nothing_saved(world, before) -> None:
    assert ServiceProfile.objects.values().get(pk=world.profile.pk) == before
    assert not Job.objects.filter(kind="rederive_profile").exists()
    assert not Notice.objects.exists()


@pytest.mark.django_db
def test_the_first_post_shows_the_impact_and_saves_nothing(world):
    iptables_site(world.sites[world.customer.slug])
    before = ServiceProfile.objects.values().get(pk=world.profile.pk)
    page = operator(world).post(edit_url(world), FORM)
    assert page.status_code == 200
    impact = page.context["impact"]
    assert impact.changes == ("Datacenter networks: added 198.51.100.0/24",)
    assert (impact.site_count, impact.affected_count) == (3, 3)
    assert impact.sample_site and impact.sample_steps
    assert any("198.51.100.0/24" in config for _, _, config in impact.sample_steps)
    body = page.content.decode()
    assert "Datacenter networks: added 198.51.100.0/24" in body
    assert "Confirm and save" in body and 'name="token"' in body
    nothing_saved(world, before)


@pytest.mark.django_db
def test_a_monitoring_port_change_concerns_only_the_monitored_sites(world):
    site = world.sites[world.customer.slug]
    Site.objects.filter(pk=site.pk).update(
        description={**site.description, "monitoring_enabled": True, "monitoring_sources": []}
    )
    impact = (
        operator(world)
        .post(
            edit_url(world),
            {**FORM, "datacenter_networks": "203.0.113.0/24", "monitoring_ports": "tcp 4403"},
        )
        .context["impact"]
    )
    assert impact.changes == ("Monitoring ports (forwarded in): removed UDP 4403",)
    assert (impact.site_count, impact.affected_count, impact.monitored_count) == (3, 1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [({"monitoring_access_months": "0"}, "monitoring_access_months"), ({"name": ""}, "name")],
)
def test_bad_input_is_refused_before_any_preview(world, changes, field):
    before = ServiceProfile.objects.values().get(pk=world.profile.pk)
    response = operator(world).post(edit_url(world), {**FORM, **changes})
    assert response.status_code == 422 and field in response.context["form"].errors
    nothing_saved(world, before)


@pytest.mark.django_db
def test_confirming_needs_a_reason(world):
    client = operator(world)
    before = ServiceProfile.objects.values().get(pk=world.profile.pk)
    token = client.post(edit_url(world), FORM).context["impact"].token
    response = client.post(edit_url(world), {**FORM, "token": token, "confirm": "1", "reason": " "})
    assert response.status_code == 422
    assert response.context["reason_errors"] and b"Why: Say why" in response.content
    nothing_saved(world, before)


@pytest.mark.django_db
def test_a_stale_or_altered_preview_is_refused_with_the_fresh_impact(world, sent):
    client = operator(world)
    token = client.post(edit_url(world), FORM).context["impact"].token
    # Someone else saves another change meanwhile.
    update_service_profile(
        profile=world.profile,
        data={
            **{k: v for k, v in world.profile.as_data().items()},
            "datacenter_fqdns": ["dc.example.net"],
        },
    )
    revision = ServiceProfile.objects.get(pk=world.profile.pk).revision
    response = client.post(
        edit_url(world), {**FORM, "token": token, "confirm": "1", "reason": REASON}
    )
    assert response.status_code == 422 and response.context["stale"]
    assert b"This preview was out of date" in response.content
    assert ServiceProfile.objects.get(pk=world.profile.pk).revision == revision  # not saved

    fresh = response.context["impact"].token
    altered = {
        **FORM,
        "outbound_ports": "tcp 4402",
        "token": fresh,
        "confirm": "1",
        "reason": REASON,
    }
    response = client.post(edit_url(world), altered)
    assert response.status_code == 422 and response.context["stale"]
    assert ServiceProfile.objects.get(pk=world.profile.pk).revision == revision
    assert STALE_PREVIEW.startswith("The profile changed")


@pytest.mark.django_db
def test_a_confirmed_change_tells_every_organisation_and_a_finished_rollout_needs_a_change(
    world, sent, mailoutbox, django_capture_on_commit_callbacks
):
    site = iptables_site(world.sites[world.customer.slug])
    finish_rollout(site)
    site.refresh_from_db()
    applied = site.current_instruction_set
    assert applied.rollout.state == RolloutState.DONE

    client = operator(world)
    token = client.post(edit_url(world), FORM).context["impact"].token
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(world), {**FORM, "token": token, "confirm": "1", "reason": REASON}
        )
    assert response.status_code == 302
    job = Job.objects.get(kind="rederive_profile")
    assert job.params["reason"] == REASON
    event = AuditEvent.objects.get(action="profile.updated")
    assert event.after["reason"] == REASON and event.after["sites_with_steps"] == 3

    by_organisation = {
        n.organisation.slug: n for n in Notice.objects.select_related("organisation")
    }
    assert {slug: n.site_count for slug, n in by_organisation.items()} == {
        world.customer.slug: 1,
        world.sibling_customer.slug: 1,
        world.other_customer.slug: 1,
        world.reseller.slug: 2,
        world.other_reseller.slug: 1,
    }
    # The worker: re-derive the sites, then mail the notices (once).
    tasks.regenerate_sites_chunk(job.pk, [s.pk for s in world.sites.values()])
    [mail_task] = [args for name, args in sent if name == queue.MAIL_NOTICES]
    # Every notice is claimed; only the organisations with admins (the world's customer and
    # reseller) get a mail.
    assert notices.mail_notices(notice_ids=mail_task[0]) == 2
    assert not Notice.objects.filter(mailed_at__isnull=True).exists()
    assert notices.mail_notices(notice_ids=mail_task[0]) == 0
    to_customer = [m for m in mailoutbox if world.people["customer_admin"].email in m.to]
    assert len(to_customer) == 1 and REASON in to_customer[0].body
    assert any(world.people["reseller_admin"].email in m.to for m in mailoutbox)
    assert not any(world.people["customer_viewer"].email in m.to for m in mailoutbox)

    site.refresh_from_db()
    plan = site.current_instruction_set
    assert plan.kind == PlanKind.CHANGE and plan.applied_from_id == applied.pk
    assert plan.reason == REASON and REASON in plan.changes
    rollout = plan.rollout
    assert rollout.state == RolloutState.NOT_STARTED
    # Only what changes: the new network added or updated, then the checks; no step of the
    # complete instructions repeated.
    actions = [step.action for document in plan.rendered for step in document.steps]
    assert rollout.steps_total == len(actions) and {"add", "change"} & set(actions)
    assert "198.51.100.0/24" in "".join(s.config for d in plan.rendered for s in d.steps)
    assert plan.complete_documents and plan.complete_rendered != plan.rendered

    customer = Client()
    customer.force_login(world.people["customer_admin"])
    page = customer.get(f"/o/{world.customer.slug}/sites/{site.pk}/").content.decode()
    needed = f"Change needed: {rollout.steps_total} step"
    assert needed in page and REASON in page
    assert "Your firewall has version " in page  # never a bare drop of progress
    dashboard = customer.get(f"/o/{world.customer.slug}/sites/").content.decode()
    assert needed in dashboard
    home = customer.get(f"/o/{world.customer.slug}/").content.decode()
    assert "firewall steps to follow" in home and REASON in home
