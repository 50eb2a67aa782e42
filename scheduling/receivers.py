"""The engine's answers to what the apps below it announce."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from reminders.signals import reminders_due
from scheduling import own_time
from scheduling.tasks import tick
from workspaces.models import Person, Workspace

# A tick queued for "now" that no worker took within this long is dropped: beat's next one comes.
TICK_EXPIRES_SECONDS = 50


@receiver(reminders_due, dispatch_uid="scheduling.reminders_due")
def tick_now(sender, **kwargs) -> None:
    """Something is due already: tick at once instead of at the next minute."""
    tick.apply_async(expires=TICK_EXPIRES_SECONDS)


@receiver(post_save, sender=Person, dispatch_uid="scheduling.person_saved")
def person_saved(sender, instance: Person, raw: bool = False, **kwargs) -> None:
    """Derived data in step: a person's greeting row follows their dates, zone and choices, in the
    workspaces greeting in each person's own zone (``own_time.py``). Bulk writes send no signal:
    their writers run the people steps instead (``own_time.people_written``); after a plain UPDATE
    the digest greets whoever has no row for the day or later, so nobody is dropped."""
    if raw:
        return
    workspace = instance.workspace if Person.workspace.is_cached(instance) else None
    if workspace is None:
        workspace = Workspace.objects.filter(pk=instance.workspace_id, greet_in_own_zone=True).first()
        if workspace is None:
            return
        instance.workspace = workspace
    if workspace.greet_in_own_zone:
        own_time.greeting_schedule_person_sync(person=instance)
