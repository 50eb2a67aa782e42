"""An account with what the workspaces keep about it: its people following its profile, its
deletion and its personal-data export.

Identity (``accounts``) knows no tenants; the workspaces compose: the deletion is the accounts'
``user_delete`` with the workspaces' refusal (the last owner of a workspace), the export is the
profile with the memberships, people records and invitations.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from birthdaybuddy.errors import Conflict
from workspaces import cache as bb_cache
from workspaces.models import Invitation, Membership, Person
from workspaces.selectors import workspace_list_solely_owned
from workspaces.sync import PROFILE_TO_PERSON, person_sync_for_user


def refuse_last_owner(user: User) -> None:
    """Refuses (409 ``last_owner``, naming them) while ``user`` is the only owner of a workspace:
    it would be left without anyone able to manage it."""
    sole = list(workspace_list_solely_owned(user=user).order_by("name"))
    if sole:
        names = ", ".join(workspace.name for workspace in sole)
        raise Conflict(
            f"You are the last owner of: {names}. Make someone else an owner or delete the workspace first.",
            code="last_owner",
            extra={"workspaces": [{"id": str(workspace.pk), "name": workspace.name} for workspace in sole]},
        )


@transaction.atomic
def account_delete(*, user: User, password: str) -> None:
    """Deletes the account after checking the password, unless it is a workspace's last owner.

    Memberships cascade; people records linked to the user stay in their workspaces, unlinked.
    """
    account_services.user_delete(user=user, password=password, refusals=(refuse_last_owner,))


def profile_changed(user: User, changed_fields: Collection[str]) -> None:
    """The people linked to ``user`` follow their profile (``workspaces.sync.person_sync_for_user``;
    a member without a Person gets one only from ``sync_birthdays``), and those workspaces'
    cached birthdays are invalidated. A change of fields no Person has does nothing."""
    changed = set(changed_fields) & PROFILE_TO_PERSON.keys()
    if not changed:
        return
    person_sync_for_user(user=user, changed_fields=changed)
    bb_cache.birthdays_bump(user_workspace_ids(user))


def user_workspace_ids(user: User) -> set:
    """The workspaces ``user`` is a member of or a person in."""
    workspace_ids = set(Membership.objects.filter(user=user).values_list("workspace_id", flat=True))
    return workspace_ids | set(Person.objects.filter(user=user).values_list("workspace_id", flat=True))


@dataclass(frozen=True)
class AccountExport:
    """Everything BirthdayBuddy keeps about one user, as plain objects for the serializer."""

    exported_at: datetime
    profile: User
    memberships: list[Membership]
    people: list[Person]
    invitations: list[Invitation]


def account_export_data(*, user: User, now: datetime | None = None) -> AccountExport:
    return AccountExport(
        exported_at=now or timezone.now(),
        profile=user,
        memberships=list(Membership.objects.filter(user=user).select_related("workspace").order_by("created_at")),
        people=list(Person.objects.filter(user=user).select_related("workspace").order_by("created_at")),
        invitations=list(
            Invitation.objects.filter(email__iexact=user.email).select_related("workspace").order_by("created_at")
        ),
    )
