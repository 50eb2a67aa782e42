"""Registers the comment digest with django-celery-beat (visible and editable in the admin)."""

import json

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Gatherings: comment digest"


def create_digest(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_15_minutes, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "gatherings.comment_digest",
            "interval": every_15_minutes,
            "enabled": True,
            "expire_seconds": 600,  # a run stuck in the queue is superseded by the next one
            "kwargs": json.dumps({}),
            "description": "Sends each participant of a gathering one message with the new comments of others.",
        },
    )
    # A running beat reloads its schedule when this changes (signals don't fire in migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_digest(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("gatherings", "0005_comment_digest"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_digest, delete_digest)]
