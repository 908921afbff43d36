"""The home page's figures: the accounts app's own, plus those the sites app registers."""

import pytest

from portal.accounts.home import home_summary, register_home_contributor
from portal.accounts.permissions import Actor
from sites.home import home_figures
from sites.models import Rollout, RolloutState, StepState
from sites.selectors import rollouts_in_progress
from sites.services.rollouts import mark_step

pytestmark = pytest.mark.django_db


def test_the_sites_app_adds_its_figures_once(world):
    register_home_contributor(home_figures)  # again: already registered by SitesConfig.ready
    actor = Actor.for_user(world.people["reseller_admin"])
    summary = home_summary(actor, world.reseller)
    assert set(summary) == {
        "site_count",
        "rollouts_in_progress",
        "recent_sites",
        "notices",
        "recent_events",
        "clients",
        "client_count",
    }
    assert summary["site_count"] == len(summary["recent_sites"]) > 0


def test_a_customer_home_has_no_clients(world, django_assert_max_num_queries):
    actor = Actor.for_user(world.people["customer_admin"])
    with django_assert_max_num_queries(5):  # the notices are one more
        summary = home_summary(actor, world.customer)
    assert "clients" not in summary and summary["site_count"] == 1


def test_rollouts_in_progress_is_the_sites_own_copy_and_agrees_with_the_rollouts(world):
    actor = Actor.for_user(world.people["reseller_admin"])
    assert home_figures(actor, world.reseller)["rollouts_in_progress"] == 0
    site = world.sites[world.customer.slug]
    mark_step(step=site.current_instruction_set.rollout.steps.first(), state=StepState.DONE)
    rollout = Rollout.objects.get(instruction_set=site.current_instruction_set)
    assert rollout.state == RolloutState.IN_PROGRESS
    figures = home_figures(actor, world.reseller)
    assert (
        figures["rollouts_in_progress"] == 1 == rollouts_in_progress(actor, world.reseller).count()
    )
    assert figures["site_count"] == 2  # the reseller's two clients' sites, not the other reseller's
