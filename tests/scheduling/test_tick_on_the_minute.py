"""The tick runs at the start of every minute, and what is due at once goes out without waiting for it."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from birthdaybuddy.celery import app as celery_app
from notifications.models import Notification
from reminders.services import reminder_create
from tests.reminders.conftest import make_workspace, person  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

tick_migration = importlib.import_module("scheduling.migrations.0002_beat_tick")
crontab_migration = importlib.import_module("scheduling.migrations.0003_tick_on_the_minute")


def test_beat_runs_the_tick_at_second_zero_of_every_minute():
    # Run the data migrations' functions again, in order (a transactional test may have flushed their rows).
    PeriodicTask.objects.filter(task="scheduling.tick").delete()
    tick_migration.create_tick(apps, None)
    crontab_migration.to_crontab(apps, None)
    crontab_migration.to_crontab(apps, None)  # idempotent
    [task] = PeriodicTask.objects.filter(task="scheduling.tick")
    assert task.interval is None
    crontab = task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year, crontab.day_of_week) == (
        "*",
        "*",
        "*",
        "*",
        "*",
    )
    assert str(crontab.timezone) == "UTC"


@pytest.fixture
def eager_tasks():
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.mark.usefixtures("eager_tasks")
def test_a_reminder_due_now_is_taken_at_once_not_at_the_next_minute(
    make_workspace,  # noqa: F811
    person,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, name="Ana", email="ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        reminder = reminder_create(
            workspace=workspace,
            data={
                "kind": "one_time",
                "run_at": timezone.now(),
                "recipients": [ana.pk],
                "channels": ["email"],
                "message": "Now, please",
            },
        )
    assert Notification.objects.filter(reminder=reminder).count() == 1
