import importlib

import pytest
from django.apps import apps
from django_celery_beat.models import PeriodicTask

from birthdaybuddy.celery import app

beat_migration = importlib.import_module("notifications.migrations.0002_beat_sweep")
interval_migration = importlib.import_module("notifications.migrations.0008_sweep_every_30_seconds")


@pytest.mark.django_db
def test_sweeper_runs_every_30_seconds_and_expires_before_the_next_run():
    # Run the data migrations' functions again (a transactional test may have flushed their rows);
    # both are idempotent.
    for _ in range(2):
        beat_migration.create_sweep(apps, None)
        interval_migration.forwards(apps, None)

    [task] = PeriodicTask.objects.filter(task="notifications.sweep")
    assert task.enabled
    assert task.interval.every * {"seconds": 1, "minutes": 60}[task.interval.period] == 30
    assert task.expire_seconds < 30


def test_tasks_are_registered_under_stable_names():
    app.loader.import_default_modules()
    assert {"notifications.deliver", "notifications.deliver_batch", "notifications.sweep"} <= set(app.tasks)
