"""Fixtures shared by the whole suite: a world of tenants and roles, a real worker, a browser."""

import pytest
from django.core.signals import got_request_exception
from django.db import connection

from portal.audit import triggers
from tests.factories import guide_profile
from tests.world import World, build_world

pytest_plugins = [
    "tests.fixtures.worker",
    "tests.fixtures.browser",
    "tests.fixtures.redis",
    "tests.fixtures.probe_responder",
    "tests.fixtures.lab",
]


def _database_fixture(request) -> str | None:
    """ "db" or "transactional_db", the database the test uses; None for a test without one."""
    uses_db = {"db", "transactional_db", "live_server", "django_db_reset_sequences"} & set(
        request.fixturenames
    ) or request.node.get_closest_marker("django_db")
    if not uses_db:
        return None
    marker = request.node.get_closest_marker("django_db")
    transactional = (
        "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    )
    transactional = transactional or bool(marker and marker.kwargs.get("transaction"))
    return "transactional_db" if transactional else "db"


@pytest.fixture(autouse=True)
def _append_only_audit_on_sqlite(request):
    """Keep the audit triggers in place for every database test.

    A transactional test database is flushed with DELETE (SQLite) or TRUNCATE (PostgreSQL), which
    the triggers refuse; they are dropped just before that flush and put back at the start of the
    next database test.
    """
    database = _database_fixture(request)
    if database is None:
        yield
        return
    request.getfixturevalue(database)
    triggers.install(connection)
    yield
    if database == "transactional_db":
        triggers.drop(connection)


@pytest.fixture(autouse=True)
def _guide_profile(request, _append_only_audit_on_sqlite):
    """Every database test starts with the default service profile the data migration made."""
    database = _database_fixture(request)
    if database is not None:
        request.getfixturevalue(database)
        guide_profile()


@pytest.fixture(autouse=True)
def _no_server_errors(request):
    """No request in the suite may end in an unhandled exception (a 500), unless a test says so
    with ``@pytest.mark.server_error`` (the test of the friendly 500 page)."""
    failures = []

    def record(sender, request=None, **kwargs):
        failures.append(getattr(request, "path", "?"))

    got_request_exception.connect(record)
    yield
    got_request_exception.disconnect(record)
    if failures and not request.node.get_closest_marker("server_error"):
        pytest.fail(f"requests ended in a server error: {failures}")


@pytest.fixture(autouse=True)
def _mfa_required_only_where_tested(request, settings):
    """Roles that must use two-factor authentication would send the many journeys of other tests
    to enrolment; only tests marked ``mfa`` keep ``MFA_REQUIRED_ROLES``."""
    if not request.node.get_closest_marker("mfa"):
        settings.MFA_REQUIRED_ROLES = []


@pytest.fixture
def world(db) -> World:
    return build_world()


def pytest_sessionfinish(session, exitstatus):
    """Remove this run's embedded broker file (see CELERY_BROKER_URL in portal/settings.py)."""
    from pathlib import Path

    from django.conf import settings

    prefix = "sqla+sqlite:///"
    if settings.CELERY_BROKER_URL.startswith(prefix) and "-test-" in settings.CELERY_BROKER_URL:
        Path(settings.CELERY_BROKER_URL.removeprefix(prefix)).unlink(missing_ok=True)
