"""The events' periodic job: waitlist offers lapse on time (``events.expire_offers``, every minute)."""

from celery import shared_task


@shared_task(name="events.expire_offers", ignore_result=True, acks_late=False)
def expire_offers() -> int:
    """Lapses waitlist offers whose time is up and offers their places to the next guests.

    Safe to run twice at once: each event is handled under its row lock.
    """
    from events import guests

    return guests.offers_expire_due()
