"""Non-trivial reads about users: lookups by email, cleanup candidates."""

from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User


def user_get_by_email(*, email: str) -> User | None:
    """The user with this email address, compared case-insensitively."""
    return User.objects.filter(email__iexact=(email or "").strip()).first()


def users_unverified_expired(*, now: datetime | None = None) -> QuerySet[User]:
    """Users still ``pending`` longer than ``UNVERIFIED_USER_TTL`` after sign-up.

    Staff accounts are never included: they are made by operators, not by sign-up.
    """
    now = now or timezone.now()
    return User.objects.filter(
        status=User.Status.PENDING,
        is_staff=False,
        created_at__lt=now - settings.UNVERIFIED_USER_TTL,
    ).order_by("created_at")
