"""Registers the every-minute tick with django-celery-beat (visible and editable in the admin)."""

import json

from django.db import migrations

TASK_NAME = "Scheduling tick (due reminders → notifications)"


def create_tick(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "scheduling.tick",
            "interval": every_minute,
            "enabled": True,
            "expire_seconds": 50,  # a tick stuck in the queue is superseded by the next one
            "kwargs": json.dumps({}),
            "description": "Claims due reminders and writes their notifications. Runs every minute.",
        },
    )


def delete_tick(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_tick, delete_tick)]
