"""The daily retention job (``notifications.prune_history``) and the index it reads InboundContact by.

The beat entry lives in django-celery-beat's tables, visible and editable in the admin like the
sweeper's. It runs at 03:17 UTC (a quiet hour, off the round minutes other jobs like). The index
on ``last_inbound_at`` lets each chunk of the prune find the oldest rows without reading the
whole table; it lives outside the model state like the BRIN of migration 0003.
"""

import json

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Prune old history (audit log, inbound contacts)"
TASK = "notifications.prune_history"
INDEX_NAME = "inboundcontact_last_inbound_idx"


def _touch_schedule(apps):
    # Beat's DatabaseScheduler reloads its schedule when this changes (signals don't fire in migrations).
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_prune(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="17", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "crontab": daily,
            "interval": None,
            "enabled": True,
            "expire_seconds": 6 * 3600,  # a run stuck in the queue that long waits for the next day's
            "kwargs": json.dumps({}),
            "description": (
                "Deletes audit log entries older than AUDIT_RETENTION_DAYS (365) and WhatsApp session "
                "bookkeeping (InboundContact) older than INBOUND_CONTACT_RETENTION_DAYS (7), in chunks. "
                "Same as `manage.py prune_history`."
            ),
        },
    )
    _touch_schedule(apps)


def delete_prune(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()
    _touch_schedule(apps)


def create_index(apps, schema_editor):
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON notifications_inboundcontact (last_inbound_at)")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_event_message_kinds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
        migrations.RunPython(create_prune, delete_prune),
    ]
