"""Registers the hourly "Delete unverified users" beat entry in django-celery-beat.

It lives in the database so operators can see, pause or reschedule it in the admin.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Delete unverified users"
TASK = "accounts.cleanup_unverified_users"


def _touch_schedule(apps):
    # Beat's DatabaseScheduler reloads its schedule when this timestamp changes; the model
    # signals that normally bump it do not fire for the historical models used here.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def create_periodic_task(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    schedule = IntervalSchedule.objects.filter(every=1, period="hours").order_by("pk").first()
    if schedule is None:
        schedule = IntervalSchedule.objects.create(every=1, period="hours")
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "interval": schedule,
            "crontab": None,
            "enabled": True,
            "description": "Deletes users still pending email verification 2 days after sign-up.",
        },
    )
    _touch_schedule(apps)


def delete_periodic_task(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()
    _touch_schedule(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_periodic_task, delete_periodic_task),
    ]
