"""Keeping task reminders in step with what happens to their task and event.

- A task deleted with its event or workspace (a cascade, not ``task_delete``) takes its
  reminder along: a reminder about a task that no longer exists must not fire.
- A cancelled event (``events.signals.event_cancelled``, after commit) pauses its tasks'
  reminders, as nothing is due for a gathering that will not happen.
"""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from events.models import Event
from events.signals import event_cancelled
from gatherings.models import Task
from reminders import services as reminder_services
from reminders.models import Reminder


@receiver(post_delete, sender=Task, dispatch_uid="gatherings-task-reminder-delete")
def _task_deleted(sender, instance: Task, **kwargs) -> None:
    if instance.reminder_id is not None:
        Reminder.objects.filter(pk=instance.reminder_id).delete()


@receiver(event_cancelled, sender=Event, dispatch_uid="gatherings-pause-task-reminders")
def _event_cancelled(sender, event: Event, **kwargs) -> None:
    for reminder in Reminder.objects.filter(gathering_task__event=event, active=True):
        reminder_services.reminder_update(reminder=reminder, data={"active": False})
