"""Celery entry points of the accounts app: thin wrappers around services."""

from celery import shared_task

from accounts import services


@shared_task(name="accounts.cleanup_unverified_users", ignore_result=True)
def cleanup_unverified_users() -> int:
    """Deletes sign-ups nobody verified in time (beat: "Delete unverified users", hourly)."""
    return len(services.unverified_users_cleanup())
