"""Registers the Slack app's two beat jobs (visible and editable in the admin): the daily
directory sync and the onboarding DMs."""

import json

from django.db import migrations
from django.utils import timezone

SYNC = "Slack directory sync"
ONBOARDING = "Slack onboarding asks"


def create_entries(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="41", hour="4", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    every_five_minutes, _ = IntervalSchedule.objects.get_or_create(every=300, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=SYNC,
        defaults={
            "task": "slackapp.directory_sync_all",
            "crontab": daily,
            "enabled": True,
            "expire_seconds": 3600,
            "kwargs": json.dumps({}),
            "description": "Matches Slack users to people by email; fills Slack ids, names and zones. Daily.",
        },
    )
    PeriodicTask.objects.update_or_create(
        name=ONBOARDING,
        defaults={
            "task": "slackapp.onboarding_send",
            "interval": every_five_minutes,
            "enabled": True,
            "expire_seconds": 240,
            "kwargs": json.dumps({}),
            "description": "Sends the consent questions admins asked for, outside quiet hours. Every 5 minutes.",
        },
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def delete_entries(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[SYNC, ONBOARDING]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("slackapp", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_entries, delete_entries)]
