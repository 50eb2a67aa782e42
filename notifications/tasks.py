"""Celery entry points: thin, taking ids; the state machine in the database does the rest.

Each task imports its service inside its body: the services queue tasks (``queueing.py``), so
the tasks module itself imports nothing of the app.

No ``autoretry_for``: retries are rows going back to ``pending`` with ``next_attempt_at``
and a short countdown (see ``notifications/delivery/``), so ``acks_late`` +
``reject_on_worker_lost`` redeliveries and duplicate messages are harmless.
"""

from celery import shared_task

from birthdaybuddy.worker_health import job_monitored


@shared_task(name="notifications.deliver", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver(notification_id: str) -> str:
    from notifications import services

    return services.notification_deliver(notification_id=notification_id)


@shared_task(name="notifications.deliver_batch", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_batch(notification_ids: list[str]) -> dict[str, int]:
    from notifications import services

    return services.notifications_deliver_batch(notification_ids=notification_ids)


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    from notifications import services

    with job_monitored("sweep"):
        return services.notifications_sweep()


@shared_task(name="notifications.prune_history", ignore_result=True)
def prune_history(time_budget: float | None = None, chunk_size: int | None = None) -> dict[str, int]:
    """The daily retention job; time-boxed, it queues itself again while a backlog is left."""
    from notifications import retention

    budget = retention.TASK_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    results = retention.history_prune(time_budget=budget, chunk_size=chunk_size or retention.CHUNK_SIZE)
    if not all(result.complete for result in results):
        prune_history.apply_async(kwargs={"time_budget": time_budget, "chunk_size": chunk_size}, countdown=5)
    return {result.name: result.deleted for result in results}
