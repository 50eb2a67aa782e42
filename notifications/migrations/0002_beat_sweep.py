"""Registers the every-minute delivery sweeper with django-celery-beat (visible and editable in the admin)."""

import json

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Notifications sweeper (lost and stuck deliveries)"


def create_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "notifications.sweep",
            "interval": every_minute,
            "enabled": True,
            "expire_seconds": 50,  # a sweep stuck in the queue is superseded by the next one
            "kwargs": json.dumps({}),
            "description": (
                "Re-queues pending notifications the broker lost and settles notifications whose "
                "worker died while sending. Runs every minute."
            ),
        },
    )
    # A running beat reloads its schedule when this changes (signals don't fire in migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_sweep, delete_sweep)]
