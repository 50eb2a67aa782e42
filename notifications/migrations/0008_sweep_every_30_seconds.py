"""The delivery sweeper runs every 30 seconds (was every minute).

With claim leases of 20–30 s, a dead worker's rows are back in delivery within about a minute
of its death (a lease period for the lease to lapse, at most one sweep interval to be seen),
and pending rows a restarted broker forgot within the grace period plus one interval.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Notifications sweeper (lost and stuck deliveries)"
SECONDS = 30


def set_interval(every: int, expire: int, description: str):
    def apply(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period="seconds")
        PeriodicTask.objects.filter(name=TASK_NAME).update(
            interval=interval, expire_seconds=expire, description=description
        )
        # A running beat reloads its schedule when this changes (signals don't fire in migrations).
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})

    return apply


forwards = set_interval(
    SECONDS,
    SECONDS - 5,
    "Re-queues pending notifications the broker lost and settles notifications whose "
    "worker died while sending (its claim lease lapsed). Runs every 30 seconds.",
)
backwards = set_interval(
    60,
    50,
    "Re-queues pending notifications the broker lost and settles notifications whose "
    "worker died while sending. Runs every minute.",
)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0007_fewer_notification_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
