"""The beat entry of ``events.expire_offers``: waitlist offers lapse on time, checked every minute.

It lives in django-celery-beat's tables, visible and editable in the admin like the tick's.
"""

import json

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Lapse waitlist offers not confirmed in time"
TASK = "events.expire_offers"


def _touch_schedule(apps):
    # Beat's DatabaseScheduler reloads its schedule when this changes (signals don't fire in migrations).
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_entry(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "interval": every_minute,
            "crontab": None,
            "enabled": True,
            "expire_seconds": 55,  # a run stuck in the queue gives way to the next minute's
            "kwargs": json.dumps({}),
            "description": (
                "Lapses waitlist offers whose time to confirm is up (the guest is back to 'not answered') "
                "and offers the places to the next guests on the waitlist, telling them."
            ),
        },
    )
    _touch_schedule(apps)


def delete_entry(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()
    _touch_schedule(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_rsvp_reminder_hours"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_entry, delete_entry)]
