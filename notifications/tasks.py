"""Celery entry points: thin, taking ids; the state machine in the database does the rest.

No ``autoretry_for``: retries are rows going back to ``pending`` with ``next_attempt_at``
and a short countdown (see ``notifications/delivery.py``), so ``acks_late`` +
``reject_on_worker_lost`` redeliveries and duplicate messages are harmless.
"""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(notification_id: str) -> str:
    return services.notification_deliver(notification_id=notification_id)


@shared_task(name="notifications.deliver_batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_batch(notification_ids: list[str]) -> dict[str, int]:
    return services.notifications_deliver_batch(notification_ids=notification_ids)


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    return services.notifications_sweep()
