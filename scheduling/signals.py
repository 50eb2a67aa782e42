"""Keeps each workspace's digest reminder in step with the workspace (DESIGN: domain apps
announce changes; the pipeline listens)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from reminders.models import Reminder, ReminderKind
from workspaces.models import Workspace


@receiver(post_save, sender=Workspace, dispatch_uid="scheduling.workspace_saved")
def workspace_saved(sender, instance: Workspace, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from scheduling import services

    if created:
        services.digest_ensure(workspace=instance)
        return
    with transaction.atomic():
        # Locks out a tick processing the same reminder; it commits first, then we read fresh.
        for reminder in Reminder.objects.select_for_update().filter(
            workspace=instance, kind=ReminderKind.BIRTHDAY_DIGEST, active=True
        ):
            reminder.workspace = instance
            services.reminder_reschedule(reminder=reminder)
