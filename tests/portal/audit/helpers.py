"""Making audit events for the search, history and export tests."""

from contextlib import contextmanager
from datetime import datetime
from unittest import mock

from django.test import Client
from django.utils import timezone

from tests.factories import AuditEventFactory


def make_event(*, organisation=None, at: datetime | None = None, **fields):
    """An audit event of ``organisation`` (its name copied, as ``record_event`` does), at ``at``."""
    fields.setdefault("organisation_name", organisation.name if organisation else "")
    if at is None:
        return AuditEventFactory(organisation=organisation, **fields)
    with frozen_now(at):
        return AuditEventFactory(organisation=organisation, **fields)


@contextmanager
def frozen_now(at: datetime):
    """``occurred_at`` is ``auto_now_add`` and rows cannot be updated: set the clock instead."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def aware(*args) -> datetime:
    return timezone.make_aware(datetime(*args))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
