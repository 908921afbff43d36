"""The Celery application: tasks are discovered in every installed app's ``tasks`` module.

Configuration lives in Django settings under the ``CELERY_`` namespace (see portal/settings.py).
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _mark_worker_source(task_id=None, **_):
    # Every audit event written inside a task is attributed to the worker.
    from portal.audit.context import begin_worker_context

    begin_worker_context(task_id=task_id)


@task_postrun.connect
def _clear_worker_source(**_):
    from portal.audit.context import clear_context

    clear_context()
