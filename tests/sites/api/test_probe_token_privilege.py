"""A live probe token proves steps done: only those who may run the probe see it.

Through the API (list, detail) and the probe run's page (full and live partial), as every role:
viewers, support and operators get the run without its token or the commands carrying it.
"""

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from tests.factories import ProbeRunFactory
from tests.portal.api.helpers import token_client

pytestmark = pytest.mark.django_db

MAY_RUN_PROBES = {Role.CUSTOMER_ADMIN, Role.RESELLER_ADMIN}
HIDDEN = "Only an admin of this organisation can see the probe commands"


def probes_url(site) -> str:
    return f"/api/o/{site.organisation.slug}/sites/{site.pk}/probes/"


def page_url(run) -> str:
    site = run.site
    return reverse("probe-run", args=[site.organisation.slug, site.pk, run.pk])


@pytest.fixture
def runs(world):
    """An open outbound run (client commands) and an open inbound run (listener commands)."""
    outbound = world.probe_runs[world.customer.slug]
    inbound = ProbeRunFactory(
        site=outbound.site, direction="inbound", expected=[{"protocol": "tcp", "port": 4402}]
    )
    return [outbound, inbound]


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_api_gives_the_token_only_to_those_who_may_run_probes(world, runs, role):
    if role not in world.people:
        pytest.skip("no such person in the world")
    client = token_client(world.people[role])
    site = runs[0].site

    listed = client.get(probes_url(site))
    details = [client.get(f"{probes_url(site)}{run.pk}/") for run in runs]

    assert listed.status_code == 200 and all(d.status_code == 200 for d in details)
    tokens = [r["token"] for r in listed.json()["results"]] + [d.json()["token"] for d in details]
    if role in MAY_RUN_PROBES:
        assert sorted(tokens) == sorted([run.token for run in runs] * 2)
    else:
        assert tokens == [None] * 4
        for run in runs:
            assert run.token not in listed.content.decode()
            assert all(run.token not in d.content.decode() for d in details)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "live-partial"])
def test_the_page_shows_the_commands_only_to_those_who_may_run_probes(
    client, world, runs, role, htmx
):
    if role not in world.people:
        pytest.skip("no such person in the world")
    client.force_login(world.people[role])
    headers = {"HX-Request": "true"} if htmx else {}
    for run in runs:
        response = client.get(page_url(run), headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        if htmx:  # the live partial carries the result only, never the commands
            assert run.token not in html
        elif role in MAY_RUN_PROBES:
            assert run.token in html and HIDDEN not in html
        else:
            assert run.token not in html and HIDDEN in html


def test_the_schema_says_who_gets_the_token(client):
    schema = client.get("/api/schema/", headers={"Accept": "application/json"})
    assert schema.status_code == 200
    token = schema.json()["components"]["schemas"]["ProbeRun"]["properties"]["token"]
    assert token.get("nullable") is True
    assert "may run probes" in token["description"]
