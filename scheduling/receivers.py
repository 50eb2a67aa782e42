"""The engine's answers to what the apps below it announce."""

from django.dispatch import receiver

from reminders.signals import reminders_due
from scheduling.tasks import tick

# A tick queued for "now" that no worker took within this long is dropped: beat's next one comes.
TICK_EXPIRES_SECONDS = 50


@receiver(reminders_due, dispatch_uid="scheduling.reminders_due")
def tick_now(sender, **kwargs) -> None:
    """Something is due already: tick at once instead of at the next minute."""
    tick.apply_async(expires=TICK_EXPIRES_SECONDS)
