"""Marking a step: an htmx post gets the step's block (swapped in place) and a trigger for the
rollout summary; a plain post goes back to the step on the site's page."""

import pytest

from tests.sites.views.page_or_partial import PARTIAL

pytestmark = pytest.mark.django_db


def test_a_step_answers_its_block_with_htmx_and_redirects_without(world, admin):
    site = world.sites[world.customer.slug]
    step = site.current_instruction_set.rollout.steps.order_by("position").first()
    url = f"/o/{world.customer.slug}/sites/{site.pk}/steps/{step.pk}/"

    block = admin.post(url, {"state": "done"}, headers=PARTIAL)
    assert block.status_code == 200 and b"<html" not in block.content
    assert f'id="step-state-{step.pk}"'.encode() in block.content
    assert block["HX-Trigger"] == "rollout-changed" and "HX-Request" in block["Vary"]

    plain = admin.post(url, {"state": "pending"})
    assert plain.status_code == 302 and plain["Location"].endswith(f"#step-{step.position}")
