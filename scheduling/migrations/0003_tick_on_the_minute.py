"""The tick runs at second 0 of every minute (a crontab), not every 60 s from whenever beat started.

django-celery-beat's interval schedule counts from the task's last run, so a reminder due at
09:00:00 could leave as late as 09:00:59; its crontab schedule fires at the start of each minute.
The crontab is in UTC: the tick has no local time of its own (reminders carry theirs).
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Scheduling tick (due reminders → notifications)"


def to_crontab(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.filter(name=TASK_NAME).update(
        interval=None,
        crontab=every_minute,
        description="Claims due reminders and writes their notifications. Runs at the start of every minute.",
    )
    # A running beat reloads its schedule when this changes (signals don't fire in migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def to_interval(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.filter(name=TASK_NAME).update(
        crontab=None,
        interval=every_minute,
        description="Claims due reminders and writes their notifications. Runs every minute.",
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0002_beat_tick")]

    operations = [migrations.RunPython(to_crontab, to_interval)]
