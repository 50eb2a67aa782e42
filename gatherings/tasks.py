from celery import shared_task


@shared_task(name="gatherings.comment_digest", ignore_result=True, acks_late=False)
def comment_digest() -> None:
    """Beat runs this every 15 minutes. Safe to run twice at once (row claims + unique keys)."""
    from gatherings import digest

    digest.comment_digest_write()
