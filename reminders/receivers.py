"""Keeps reminders in step with their workspace's settings (zone, ``notify_at``, quiet hours)
and gives every new workspace its digest. Connected in ``RemindersConfig.ready``."""

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from reminders import schedule
from reminders.services import digest_ensure
from workspaces.models import Workspace

_BEFORE = "_scheduling_settings_before"


@receiver(pre_save, sender=Workspace, dispatch_uid="reminders.workspace_saving")
def workspace_saving(sender, instance: Workspace, raw: bool = False, **kwargs) -> None:
    if raw or instance._state.adding:
        return
    setattr(instance, _BEFORE, Workspace.objects.filter(pk=instance.pk).values(*schedule.SCHEDULE_SETTINGS).first())


@receiver(post_save, sender=Workspace, dispatch_uid="reminders.workspace_saved")
def workspace_saved(sender, instance: Workspace, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    if created:
        digest_ensure(workspace=instance)
        return
    before = instance.__dict__.pop(_BEFORE, None)
    schedule.workspace_reminders_reschedule(workspace=instance, before=before)
