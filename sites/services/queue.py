"""How services send the sites' Celery tasks: by name, so that services never import
``sites.tasks`` (the tasks import the services; one direction only)."""

from __future__ import annotations

from celery import current_app
from django.db import transaction

REGENERATE_SITE = "sites.tasks.regenerate_site_instructions"
REDERIVE_PROFILE = "sites.tasks.rederive_profile"
RUN_INBOUND_CHECK = "sites.tasks.run_inbound_check"
RUN_SITE_BULK_JOB = "sites.tasks.run_site_bulk_job"
MAIL_NOTICES = "sites.tasks.mail_notices"
COUNT_DASHBOARD = "sites.tasks.count_dashboard"


def enqueue(task_name: str, *args: object) -> None:
    """Send ``task_name`` now: for callers outside a transaction whose rows the task reads."""
    current_app.send_task(task_name, args=list(args))


def enqueue_after_commit(task_name: str, *args: object) -> None:
    """Send ``task_name`` once the current transaction commits, so the worker finds its rows
    (and a rolled-back change sends nothing)."""
    transaction.on_commit(lambda: enqueue(task_name, *args))
