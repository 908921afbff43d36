"""Customers read audit events in words; support sees the codes beside them (issue #13 point 10)."""

import html
import re

import pytest

from portal.accounts.models import Role
from portal.audit.labels import ACTION_SENTENCES, action_sentence
from portal.audit.models import ActorKind, Source
from tests.portal.audit.helpers import client_for, make_event

CODES = re.compile(
    r"\b(?:accounts\.membership|membership\.created|auth\.login|sites\.bulk_queued"
    r"|command:seed_demo)\b"
)


def seed_events(organisation) -> None:
    make_event(
        organisation=organisation,
        action="membership.created",
        object_type="accounts.membership",
        object_id="1",
        object_repr="alice · Customer admin",
        actor_kind=ActorKind.COMMAND,
        actor_label="command:seed_demo",
        source=Source.COMMAND,
    )
    make_event(
        organisation=organisation,
        action="auth.login",
        actor_kind=ActorKind.PERSON,
        actor_label="alice",
        source=Source.WEB,
    )
    make_event(
        organisation=organisation,
        action="probe.proven",
        actor_kind=ActorKind.WORKER,
        actor_label="probe-responder",
        source=Source.WORKER,
    )


def visible_text(page_html: str) -> str:
    """The page without tags' attributes (a code may sit in a link's URL, never in the words)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page_html))


@pytest.mark.parametrize("page", ["", "audit/"])
def test_customer_pages_show_words_not_codes(world, page):
    seed_events(world.customer)
    client = client_for(world.people[Role.CUSTOMER_ADMIN])
    text = visible_text(client.get(f"/o/{world.customer.slug}/{page}").content.decode())
    assert "Added a member" in text and "Set-up script" in text
    assert "Signed in" in text and "The portal's probe service" in text
    assert not CODES.search(text), CODES.search(text)
    assert "probe-responder" not in text


def test_support_audit_search_keeps_the_codes_next_to_the_words(world):
    seed_events(world.customer)
    client = client_for(world.people[Role.SUPPORT])
    page = client.get(f"/o/{world.customer.slug}/audit/").content.decode()
    assert "Added a member" in page
    assert '<code class="code">membership.created</code>' in page
    assert '<code class="code">command:seed_demo</code>' in page


def test_every_sentence_is_plain_words_and_unknown_codes_still_read():
    assert all("." not in s.rstrip(".") and "_" not in s for s in ACTION_SENTENCES.values())
    assert action_sentence("site.moved_house") == "Site moved house"
