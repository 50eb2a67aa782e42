"""Keeps reminders in step with what they depend on (DESIGN: domain apps announce changes;
the pipeline listens): the workspace's zone, ``notify_at`` and quiet hours, the events they
remind of, and their own schedule fields (``reminders.signals.reminder_schedule_changed``)."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from events import signals as event_signals
from events.models import Event
from reminders.signals import reminder_schedule_changed
from workspaces.models import Workspace

_BEFORE = "_scheduling_settings_before"
# Event fields that decide when its reminders fire.
TIMING_FIELDS = frozenset({"starts_at", "ends_at", "all_day", "date", "rrule", "exdates", "rdates"})


@receiver(pre_save, sender=Workspace, dispatch_uid="scheduling.workspace_saving")
def workspace_saving(sender, instance: Workspace, raw: bool = False, **kwargs) -> None:
    if raw or instance._state.adding:
        return
    from scheduling.services import SCHEDULE_SETTINGS

    setattr(instance, _BEFORE, Workspace.objects.filter(pk=instance.pk).values(*SCHEDULE_SETTINGS).first())


@receiver(post_save, sender=Workspace, dispatch_uid="scheduling.workspace_saved")
def workspace_saved(sender, instance: Workspace, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from scheduling import services

    if created:
        services.digest_ensure(workspace=instance)
        return
    before = instance.__dict__.pop(_BEFORE, None)
    services.workspace_reminders_reschedule(workspace=instance, before=before)


@receiver(post_save, sender=Event, dispatch_uid="scheduling.event_saved")
def event_saved(sender, instance: Event, created: bool, raw: bool = False, **kwargs) -> None:
    """An edited event moves its reminders; a cancelled one unschedules them."""
    if raw or created:
        return
    from scheduling import services

    services.event_reminders_reschedule(event=instance)


@receiver(event_signals.event_changed, sender=Event, dispatch_uid="scheduling.event_changed")
def event_changed(sender, event: Event, changed_fields=frozenset(), **kwargs) -> None:
    """The events app's own announcement, after commit. ``post_save`` already moved the reminders
    inside the event's transaction; this keeps them right should an event change without a save()."""
    if set(changed_fields) & TIMING_FIELDS:
        from scheduling import services

        services.event_reminders_reschedule(event=event)


@receiver(event_signals.event_cancelled, sender=Event, dispatch_uid="scheduling.event_cancelled")
def event_cancelled(sender, event: Event, **kwargs) -> None:
    from scheduling import services

    services.event_reminders_reschedule(event=event)


@receiver(post_delete, sender=Event, dispatch_uid="scheduling.event_deleted")
def event_deleted(sender, instance: Event, **kwargs) -> None:
    """Deleting an event deletes its reminders with it (CASCADE); their sent notifications stay,
    unlinked. Anything left pointing at it (a later SET_NULL) is unscheduled here."""
    from scheduling import services

    services.event_reminders_reschedule(event=instance)


@receiver(reminder_schedule_changed, dispatch_uid="scheduling.reminder_schedule_changed")
def reminder_changed(sender, reminder, resumed: bool = False, now=None, **kwargs) -> None:
    from scheduling import services

    services.reminder_reschedule(reminder=reminder, resumed=resumed, now=now)
