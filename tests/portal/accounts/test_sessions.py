"""Sessions: recorded at login, listed on Account › Sessions, ended one by one or all but the
current one, and ended by an organisation admin for a member."""

from importlib import import_module

from django.conf import settings
from django.test import Client

from portal.accounts.models import Membership, Role, SessionRecord
from portal.audit.models import AuditEvent
from tests.factories import PASSWORD


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_signed_in(client, world) -> bool:
    return client.get(f"/o/{world.customer.slug}/").status_code == 200


def session_exists(key: str) -> bool:
    return import_module(settings.SESSION_ENGINE).SessionStore().exists(key)


def test_a_login_records_the_browser_and_address(world):
    person = world.people[Role.CUSTOMER_VIEWER]
    client = Client(HTTP_USER_AGENT="Firefox/140 test", REMOTE_ADDR="192.0.2.7")
    response = client.post("/accounts/login/", {"username": person.username, "password": PASSWORD})
    assert response.status_code == 302
    record = SessionRecord.objects.get(user=person)
    assert (record.user_agent, record.ip_address) == ("Firefox/140 test", "192.0.2.7")
    assert record.session_key == client.session.session_key
    page = client.get("/accounts/sessions/")
    assert b"Firefox/140 test" in page.content and b"This session" in page.content
    client.post("/accounts/logout/")
    assert not SessionRecord.objects.filter(user=person).exists()


def test_a_person_ends_another_session(world):
    person = world.people[Role.CUSTOMER_VIEWER]
    laptop, phone = signed_in(person), signed_in(person)
    phone_record = SessionRecord.objects.get(session_key=phone.session.session_key)
    response = laptop.post("/accounts/sessions/", {"session": phone_record.pk})
    assert response.status_code == 302
    assert not is_signed_in(phone, world)
    assert is_signed_in(laptop, world)
    assert not session_exists(phone_record.session_key)
    assert AuditEvent.objects.filter(action="session.ended").count() == 1


def test_the_session_in_use_is_not_ended_from_the_list(world):
    person = world.people[Role.CUSTOMER_VIEWER]
    laptop = signed_in(person)
    own = SessionRecord.objects.get(session_key=laptop.session.session_key)
    laptop.post("/accounts/sessions/", {"session": own.pk})
    assert is_signed_in(laptop, world)


def test_nobody_ends_another_persons_session_from_their_own_list(world):
    victim = signed_in(world.people[Role.CUSTOMER_ADMIN])
    record = SessionRecord.objects.get(session_key=victim.session.session_key)
    attacker = signed_in(world.people[Role.CUSTOMER_VIEWER])
    attacker.post("/accounts/sessions/", {"session": record.pk})
    assert is_signed_in(victim, world)


def test_log_out_everywhere_else(world):
    person = world.people[Role.CUSTOMER_VIEWER]
    here, others = signed_in(person), [signed_in(person) for _ in range(2)]
    here.post("/accounts/sessions/", {"scope": "others"})
    assert is_signed_in(here, world)
    assert not any(is_signed_in(client, world) for client in others)
    assert SessionRecord.objects.filter(user=person).count() == 1
    assert AuditEvent.objects.get(action="session.ended").after["sessions"] == 2


def test_an_admin_forces_a_members_logout(world):
    member = world.people[Role.CUSTOMER_VIEWER]
    sessions = [signed_in(member), signed_in(member)]
    admin = signed_in(world.people[Role.CUSTOMER_ADMIN])
    membership = Membership.objects.get(user=member)
    response = admin.post(f"/o/{world.customer.slug}/members/{membership.pk}/logout/")
    assert response.status_code == 302
    assert not any(is_signed_in(client, world) for client in sessions)
    assert is_signed_in(admin, world)
    event = AuditEvent.objects.get(action="member.logged_out")
    assert event.organisation == world.customer and event.after["sessions"] == 2


def test_a_viewer_cannot_force_a_logout(world):
    admin_session = signed_in(world.people[Role.CUSTOMER_ADMIN])
    viewer = signed_in(world.people[Role.CUSTOMER_VIEWER])
    membership = Membership.objects.get(user=world.people[Role.CUSTOMER_ADMIN])
    assert (
        viewer.post(f"/o/{world.customer.slug}/members/{membership.pk}/logout/").status_code == 403
    )
    assert is_signed_in(admin_session, world)


def test_the_sessions_page_needs_a_login(world):
    response = Client().get("/accounts/sessions/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_last_seen_is_written_at_most_once_a_minute(world):
    client = signed_in(world.people[Role.CUSTOMER_VIEWER])
    record = SessionRecord.objects.get(session_key=client.session.session_key)
    client.get(f"/o/{world.customer.slug}/")
    assert SessionRecord.objects.get(pk=record.pk).last_seen_at == record.last_seen_at
    session = client.session
    session["_portal_seen_at"] = 0  # as if the last note were long ago
    session.save()
    client.get(f"/o/{world.customer.slug}/")
    assert SessionRecord.objects.get(pk=record.pk).last_seen_at > record.last_seen_at
