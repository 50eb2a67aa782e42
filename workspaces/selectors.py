"""Reads with a rule in them: who counts as what in a workspace, and who may see a birth year."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q

from birthdaybuddy.tokens import hash_token
from workspaces.models import ADMIN_ROLES, Membership, Person, Role, Workspace

if TYPE_CHECKING:
    from accounts.models import User


def effective_role(*, membership: Membership | None, user) -> str | None:
    """The role ``user`` acts with: their membership's, except that staff act as at least admin."""
    role = membership.role if membership is not None else None
    if getattr(user, "is_staff", False) and role not in ADMIN_ROLES:
        return Role.ADMIN
    return role


def workspace_role_of(*, workspace: Workspace, user: User) -> str | None:
    membership = Membership.objects.filter(workspace=workspace, user=user).first()
    return effective_role(membership=membership, user=user)


def workspace_list_visible(*, user: User):
    """Workspaces ``user`` may see (all of them for staff), each annotated with ``caller_role``."""
    return Workspace.objects.visible_to(user).with_role_of(user)


def person_birth_year_visible(*, person: Person, viewer, viewer_role: str | None) -> bool:
    """Whether ``viewer`` may see ``person``'s birth year (and so their age).

    The same rule applies on every surface (API, digests, exports): the year is shown when
    the person allows it, and otherwise only to workspace owners/admins, staff and the
    person themself.
    """
    if person.show_age:
        return True
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.is_staff or viewer_role in ADMIN_ROLES:
        return True
    return person.user_id is not None and person.user_id == viewer.pk


def workspace_list_solely_owned(*, user: User):
    """Workspaces in which ``user`` is the only owner: deleting the account would orphan them.

    The accounts app asks this before deleting a user (refuse, or ask them to hand over or
    delete those workspaces first).
    """
    owned = Membership.objects.filter(user=user, role=Role.OWNER).values("workspace_id")
    return (
        Workspace.objects.filter(pk__in=owned)
        .annotate(owner_count=Count("memberships", filter=Q(memberships__role=Role.OWNER)))
        .filter(owner_count=1)
    )


def invitation_for_token(*, token: str):
    """The invitation a token belongs to, in any state (the page says why it cannot be used), or None."""
    from workspaces.models import Invitation

    if not isinstance(token, str) or not 20 <= len(token) <= 128:
        return None
    return Invitation.objects.select_related("workspace", "invited_by").filter(token_hash=hash_token(token)).first()
