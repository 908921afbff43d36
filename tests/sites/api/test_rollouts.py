"""Instruction sets and rollout steps through the API: read every version, follow the current
rollout, mark a step through ``mark_step`` (one audit event, source "api")."""

import pytest

from portal.audit.models import AuditEvent
from sites.models import RolloutState, StepState
from sites.services.instructions import regenerate_site
from sites.services.rollouts import mark_step
from sites.services.sites import update_site
from tests.factories import site_description
from tests.portal.api.helpers import token_client

pytestmark = pytest.mark.django_db


def site_url(world, site) -> str:
    return f"/api/o/{site.organisation.slug}/sites/{site.pk}"


def new_version(site):
    """A changed description and its new instructions (version 2)."""
    update_site(site=site, data=site_description(name=site.name, public_address="198.51.100.1"))
    regenerate_site(site_id=site.pk)
    site.refresh_from_db()
    return site.current_instruction_set


def test_instruction_sets_list_every_version_and_read_one_with_its_documents(world):
    site = world.sites[world.customer.slug]
    first = site.current_instruction_set
    second = new_version(site)
    client = token_client(world.people["customer_viewer"])

    listed = client.get(f"{site_url(world, site)}/instruction-sets/").json()
    assert [(s["version"], s["is_current"]) for s in listed["results"]] == [(2, True), (1, False)]
    assert "documents" not in listed["results"][0]

    detail = client.get(f"{site_url(world, site)}/instruction-sets/{first.version}/").json()
    assert detail["version"] == 1 and not detail["is_current"]
    assert detail["documents"] == first.documents
    assert detail["rules"] == first.rules
    assert detail["description"]["public_address"] == "192.0.2.1"
    assert {d["vendor"] for d in detail["documents"]} == {"fortigate", "windows"}
    missing = f"{site_url(world, site)}/instruction-sets/{second.version + 1}/"
    assert client.get(missing).status_code == 404


def test_steps_of_the_current_rollout_in_order_with_what_to_do(world):
    site = world.sites[world.customer.slug]
    response = token_client(world.people["customer_viewer"]).get(f"{site_url(world, site)}/steps/")
    assert response.status_code == 200
    steps = response.json()["results"]
    rollout = site.current_instruction_set.rollout
    in_order = rollout.steps.order_by("position").values_list("pk", flat=True)
    assert [s["id"] for s in steps] == list(in_order)
    first = steps[0]
    assert first["state"] == "pending" and first["content"]["title"] == first["title"]
    assert {"gui_path", "config", "reason", "verify", "probes"} <= set(first["content"])


def test_patch_a_step_marks_it_and_the_rollout_follows(world):
    person = world.people["customer_admin"]
    site = world.sites[world.customer.slug]
    step = site.current_instruction_set.rollout.steps.order_by("position").first()
    url = f"{site_url(world, site)}/steps/{step.pk}/"
    client = token_client(person)

    response = client.patch(url, {"state": "done", "note": "Objects created in the GUI."})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["state"] == "done" and data["note"] == "Objects created in the GUI."
    assert data["changed_by"] == person.username and data["content"]["number"] == step.number
    step.refresh_from_db()
    assert step.state == StepState.DONE and step.changed_by == person
    assert step.rollout.state == RolloutState.IN_PROGRESS

    event = AuditEvent.objects.get(action="rollout.step_changed", object_id=str(step.pk))
    assert event.source == "api" and event.actor_user_id == person.pk
    assert event.before == {"state": "pending", "note": ""}
    assert event.after == {"state": "done", "note": "Objects created in the GUI."}

    # A field left out keeps its value.
    assert client.patch(url, {"state": "failed"}).json()["note"] == "Objects created in the GUI."
    # Reading a site now shows the rollout's state.
    assert client.get(f"{site_url(world, site)}/").json()["rollout_state"] == "failed"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"state": "finished"}, "state"), ({"note": "x" * 2001}, "note"), ({"state": None}, "state")],
)
def test_a_bad_step_change_names_its_field_and_changes_nothing(world, body, field):
    site = world.sites[world.customer.slug]
    step = site.current_instruction_set.rollout.steps.first()
    response = token_client(world.people["customer_admin"]).patch(
        f"{site_url(world, site)}/steps/{step.pk}/", body
    )
    assert response.status_code == 400
    assert list(response.json()) == [field]
    step.refresh_from_db()
    assert step.state == StepState.PENDING
    assert not AuditEvent.objects.filter(action="rollout.step_changed").exists()


def test_a_step_of_replaced_instructions_is_refused(world):
    site = world.sites[world.customer.slug]
    old_step = site.current_instruction_set.rollout.steps.first()
    new_version(site)
    response = token_client(world.people["customer_admin"]).patch(
        f"{site_url(world, site)}/steps/{old_step.pk}/", {"state": "done"}
    )
    assert response.status_code == 400
    replaced = "These instructions were replaced by a newer version."
    assert response.json() == {"non_field_errors": [replaced]}


def test_a_change_plan_says_what_it_is_why_and_keeps_the_complete_instructions(world):
    site = world.sites[world.customer.slug]
    for step in site.current_instruction_set.rollout.steps.all():
        mark_step(step=step, state=StepState.DONE)  # the customer applied version 1
    site.refresh_from_db()
    update_site(site=site, data=site_description(name=site.name, host_address="192.168.1.20"))
    regenerate_site(site_id=site.pk)  # the backup host moved: its rules change
    site.refresh_from_db()
    plan = site.current_instruction_set
    client = token_client(world.people["customer_viewer"])

    listed = client.get(f"{site_url(world, site)}/instruction-sets/").json()["results"]
    assert [(s["version"], s["kind"], s["applied_from"]) for s in listed] == [
        (2, "change", 1),
        (1, "complete", None),
    ]
    assert listed[0]["changes"] == list(plan.changes) and listed[0]["changes"]
    assert any("192.168.1.20" in change for change in listed[0]["changes"])
    assert listed[0]["removal_scope"] is None

    detail = client.get(f"{site_url(world, site)}/instruction-sets/2/").json()
    assert detail["documents"] == plan.documents
    assert detail["complete_documents"] == plan.complete_documents
    actions = {step.get("action") for d in detail["documents"] for step in d["steps"]}
    assert "change" in actions  # FortiGate updates the host's address object in place
    first = client.get(f"{site_url(world, site)}/instruction-sets/1/").json()
    assert first["kind"] == "complete" and first["complete_documents"] is None


def test_the_version_list_reads_in_constant_queries(world, django_assert_max_num_queries):
    site = world.sites[world.customer.slug]
    for _ in range(3):
        for step in site.current_instruction_set.rollout.steps.all():
            mark_step(step=step, state=StepState.DONE)
        site.refresh_from_db()
        update_site(
            site=site,
            data=site_description(name=site.name, public_address=f"198.51.100.{site.pk % 200 + _}"),
        )
        regenerate_site(site_id=site.pk)
        site.refresh_from_db()
    client = token_client(world.people["customer_viewer"])
    with django_assert_max_num_queries(12):
        listed = client.get(f"{site_url(world, site)}/instruction-sets/").json()["results"]
    assert [s["applied_from"] for s in listed][:3] == [3, 2, 1]
