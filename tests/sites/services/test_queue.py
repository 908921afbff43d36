"""Services send the sites' tasks by name (sites.services.queue), never by importing sites.tasks."""

import ast
from pathlib import Path

import sites.services
import sites.tasks  # registers the tasks
from portal.celery import app
from sites.services import queue

SERVICES = Path(sites.services.__file__).parent


def test_every_task_name_the_services_send_is_a_registered_task():
    for name in (
        queue.REGENERATE_SITE,
        queue.REDERIVE_PROFILE,
        queue.RUN_INBOUND_CHECK,
        queue.RUN_SITE_BULK_JOB,
        queue.MAIL_NOTICES,
    ):
        assert name in app.tasks, name


def test_no_service_imports_the_tasks():
    for path in SERVICES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.startswith("sites.tasks") for name in names), path.name


def test_a_task_is_sent_once_the_transaction_commits(
    monkeypatch, django_capture_on_commit_callbacks, db
):
    sent = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args: sent.append((name, args)))
    with django_capture_on_commit_callbacks(execute=True):
        queue.enqueue_after_commit(queue.REGENERATE_SITE, 7)
        assert sent == []
    assert sent == [(queue.REGENERATE_SITE, (7,))]
