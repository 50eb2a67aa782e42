from celery import shared_task

from birthdaybuddy.worker_health import job_monitored


@shared_task(name="scheduling.tick", ignore_result=True, acks_late=False)
def tick() -> None:
    """Beat runs this every minute. Safe to run twice at once (row claims + unique keys)."""
    from scheduling import tick as ticking

    with job_monitored("tick"):
        ticking.tick()
