"""Non-trivial reads about users: cleanup candidates, ownership checks, the personal-data export."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from workspaces.models import Invitation, Membership, Person, Role, Workspace


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


def workspaces_where_last_owner(*, user: User) -> QuerySet[Workspace]:
    """Workspaces in which ``user`` is the only owner (they would be left without one)."""
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("workspace_id")
    return (
        Workspace.objects.filter(id__in=owned)
        .annotate(owner_count=Count("memberships", filter=Q(memberships__role=Role.OWNER)))
        .filter(owner_count=1)
        .order_by("name")
    )


@dataclass(frozen=True)
class UserExport:
    """Everything BirthdayBuddy keeps about one user, as plain objects for the serializer."""

    exported_at: datetime
    profile: User
    memberships: list[Membership]
    people: list[Person]
    invitations: list[Invitation]


def user_export_data(*, user: User, now: datetime | None = None) -> UserExport:
    return UserExport(
        exported_at=now or timezone.now(),
        profile=user,
        memberships=list(Membership.objects.filter(user=user).select_related("workspace").order_by("created_at")),
        people=list(Person.objects.filter(user=user).select_related("workspace").order_by("created_at")),
        invitations=list(
            Invitation.objects.filter(email__iexact=user.email).select_related("workspace").order_by("created_at")
        ),
    )
