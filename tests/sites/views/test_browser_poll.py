"""The open site page's poll in real Chromium (issue #14 point 10): the browser keeps the live
partial and asks with its ETag, an unchanged partial comes back 304 without a body, and a step
changed by someone else still shows on the open page without a reload."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from sites.models import Site, StepState
from sites.services.rollouts import mark_step
from tests.fixtures.browser import sign_in


@pytest.mark.browser
def test_an_unchanged_poll_is_revalidated_and_a_change_still_arrives(live_server, page):
    call_command("seed_demo", stdout=io.StringIO())
    site = Site.objects.get(organisation__slug="acme-dental", name="Main office")
    sign_in(page, live_server.url, "acme-admin")
    page.wait_for_url(f"{live_server.url}/o/**")

    url = f"{live_server.url}/o/acme-dental/sites/{site.pk}/"
    polls = []

    def seen(response):
        request = response.request
        if response.url == url and request.headers.get("hx-request") == "true":
            headers = request.all_headers()  # as sent, the HTTP cache's own included
            polls.append(
                (response.status, headers.get("if-none-match"), response.headers.get("etag"))
            )

    page.on("response", seen)
    page.goto(url)
    # The poll runs every 1.5 s: wait for a few, the first one fetched, the next revalidated.
    for _ in range(40):
        if len(polls) >= 3:
            break
        page.wait_for_timeout(250)
    assert len(polls) >= 3, polls
    status, _, etag = polls[0]
    assert status == 200 and re.fullmatch(r'"[0-9a-f]{32}"', etag or ""), polls
    # Chromium asks again with the tag it holds (the server's 304 reaches htmx as the 200 the
    # browser kept: tests/sites/views/test_site_pages.py checks the 304 itself).
    assert [tag for _, tag, _ in polls[1:]] == [etag] * (len(polls) - 1), polls

    # A colleague marks the next pending step done: the open page shows it on a later poll.
    step = site.current_instruction_set.rollout.steps.filter(state=StepState.PENDING).order_by(
        "position"
    )[0]
    mark_step(step=step, state=StepState.DONE, note="done by a colleague")
    badge = page.locator(f"#step-badge-{step.pk} .state")
    expect(badge).to_have_attribute("data-state", "done", timeout=10_000)
