"""The Celery app. Beat runs a handful of fixed jobs from django-celery-beat's database."""

import os

from celery import Celery, signals

from birthdaybuddy.worker_health import LivenessFile

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birthdaybuddy.settings")

app = Celery("birthdaybuddy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["worker"].add(LivenessFile)  # off unless WORKER_LIVENESS_FILE is set


@signals.task_prerun.connect
@signals.task_postrun.connect
def close_unusable_connections(task=None, **kwargs) -> None:
    """Drops database connections that broke or outlived ``CONN_MAX_AGE``, around every task.

    Web requests get this from Django (``request_started``/``request_finished``); a worker
    keeps its connections across tasks (``CELERY_DB_REUSE_MAX``), so without it a connection
    broken by a database restart or failover would be reused — and fail — by every later
    task until the worker restarted. The check is Django's own: a connection that saw an
    error is tested and closed if it no longer works, and the next query reconnects.
    Eager tasks run inside their caller's transaction and are left alone.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
