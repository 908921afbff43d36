"""A person's sessions: recorded at login, touched as they are used, ended on request.

Django's sessions hold no owner, address or browser, so a ``SessionRecord`` beside each one does.
Sessions are ended through the configured engine's ``SessionStore(key).delete()``, so this works
whichever engine stores them (db, cached_db, cache).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils import timezone

from portal.accounts import permissions
from portal.accounts.models import Membership, SessionRecord
from portal.accounts.permissions import Actor
from portal.audit.services import record_event
from portal.core.errors import ServiceError

# Seconds between two updates of a session's "last seen" (kept in the session, so no query).
SEEN_EVERY = 60
_SEEN_KEY = "_portal_seen_at"


def _session_store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def _describe(request) -> dict:
    return {
        "ip_address": request.META.get("REMOTE_ADDR") or None,
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


@receiver(user_logged_in, dispatch_uid="session_records.login")
def _record_login(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return
    now = timezone.now()
    SessionRecord.objects.update_or_create(
        session_key=session.session_key,
        defaults={"user": user, "last_seen_at": now, **_describe(request)},
    )
    session[_SEEN_KEY] = now.timestamp()


@receiver(user_logged_out, dispatch_uid="session_records.logout")
def _forget_logout(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        SessionRecord.objects.filter(session_key=session.session_key).delete()


class SessionActivityMiddleware:
    """Notes when a signed-in session was last used, at most once a minute per session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and request.session.session_key:
            now = timezone.now()
            if now.timestamp() - request.session.get(_SEEN_KEY, 0) > SEEN_EVERY:
                SessionRecord.objects.update_or_create(
                    session_key=request.session.session_key,
                    defaults={"user": user, "last_seen_at": now, **_describe(request)},
                )
                request.session[_SEEN_KEY] = now.timestamp()
        return self.get_response(request)


def active_sessions(user) -> list[SessionRecord]:
    """The person's sessions that still exist, most recently used first."""
    store = _session_store()
    return [r for r in SessionRecord.objects.filter(user=user) if store.exists(r.session_key)]


def _end(records: QuerySet[SessionRecord]) -> int:
    ended = 0
    for record in records:
        _session_store(record.session_key).delete()
        record.delete()
        ended += 1
    return ended


def end_all_sessions(user) -> int:
    """End every session of ``user`` (their second factor was reset: whoever holds one of
    them signs in again). The caller audits it with its own event."""
    return _end(SessionRecord.objects.filter(user=user))


def end_session(*, user, record_pk: int, keep_session_key: str, by) -> None:
    """End one of ``user``'s other sessions (its browser is signed out on its next request)."""
    with transaction.atomic():
        records = SessionRecord.objects.filter(user=user, pk=record_pk).exclude(
            session_key=keep_session_key
        )
        if not _end(records):
            raise ServiceError(
                "session", "This session has ended already (the one in use ends with “Log out”)."
            )
        record_event(action="session.ended", by=by, target=user, after={"sessions": 1})


def end_other_sessions(*, user, keep_session_key: str, by) -> int:
    """Log out everywhere else: end every session of ``user`` but the one in use."""
    with transaction.atomic():
        ended = _end(SessionRecord.objects.filter(user=user).exclude(session_key=keep_session_key))
        record_event(
            action="session.ended", by=by, target=user, after={"sessions": ended, "others": True}
        )
    return ended


def force_logout(*, membership: Membership, by) -> int:
    """An organisation admin ends every session of one of its members. Audited as
    ``member.logged_out`` with the number of sessions ended."""
    if not permissions.can_change_member(Actor.for_user(by), membership):
        raise ServiceError("", "You may not log this member out.")
    if membership.user_id == getattr(by, "pk", None):
        raise ServiceError("", "To end your own sessions, use Account › Sessions.")
    with transaction.atomic():
        ended = _end(SessionRecord.objects.filter(user_id=membership.user_id))
        record_event(
            action="member.logged_out",
            by=by,
            organisation=membership.organisation,
            target=membership.user,
            after={"user": membership.user.get_username(), "sessions": ended},
        )
    return ended
