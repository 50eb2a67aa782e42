"""Invitations: create and mail one, revoke it, accept it as a signed-in user or by signing up.

Only the token's SHA-256 is stored. Same conventions as ``workspaces.services``: keyword-only,
atomic, ``ValidationError`` for bad values, ``ApplicationError`` when a rule says no.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.mail import account_mail_send
from birthdaybuddy import ratelimit
from birthdaybuddy.errors import ApplicationError, Conflict, PermissionDeniedError
from birthdaybuddy.i18n import language_of
from birthdaybuddy.links import absolute_reverse
from birthdaybuddy.tokens import hash_token
from workspaces.models import ADMIN_ROLES, Invitation, Membership, Role, Workspace
from workspaces.selectors import workspace_role_of
from workspaces.services import person_for_member, require_verified, workspace_lock

if TYPE_CHECKING:
    from accounts.models import User


def _accept_url(token: str) -> str:
    return absolute_reverse("invitation", kwargs={"token": token})


def _send_invitation_email(*, invitation: Invitation, token: str, inviter_name: str) -> None:
    language = language_of(workspace=invitation.workspace)
    with translation.override(language):
        context = {
            "workspace": invitation.workspace,
            "workspace_name": invitation.workspace.name,
            "inviter_name": inviter_name or invitation.workspace.name,
            "role": {Role.OWNER: _("owner"), Role.ADMIN: _("admin"), Role.MEMBER: _("member")}[Role(invitation.role)],
            "accept_url": _accept_url(token),
            "expires_at": invitation.expires_at,
        }
        subject = render_to_string("workspaces/email/invitation_subject.txt", context)
    account_mail_send(
        subject=subject,
        template="workspaces/email/invitation_body",
        context=context,
        to=invitation.email,
        language=language,
    )


# Invitations to one address, from every workspace together: a burst of this many, then one an hour.
INVITATIONS_PER_ADDRESS_BURST = 3
INVITATIONS_PER_ADDRESS_INTERVAL = timedelta(hours=1)


def _invitation_rate_check(email: str) -> None:
    """429 when ``email`` was just sent several invitations (by anyone): inviting is not a way to flood a mailbox."""
    key = "invitations:address:" + hashlib.sha256(email.encode()).hexdigest()
    wait = ratelimit.reserve(
        key,
        rate_per_second=1 / INVITATIONS_PER_ADDRESS_INTERVAL.total_seconds(),
        burst=INVITATIONS_PER_ADDRESS_BURST,
        max_wait=0,
    )
    if wait:
        raise ApplicationError(
            "This address was sent several invitations recently; try again later.",
            code="too_many_invitations",
            status=429,
            extra={"retry_after": max(1, round(abs(wait)))},
        )


@transaction.atomic
def invitation_create(*, workspace: Workspace, email: str, role: str, invited_by: User) -> Invitation:
    """Invites ``email`` to ``workspace`` and mails the token after commit.

    Only the token's SHA-256 is stored; the returned instance carries the raw token in
    ``.token`` for the caller's eyes only. A pending invitation of the same address is
    revoked (inviting again = resending). Only owners may invite owners.
    """
    email = (email or "").strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(f"'{role}' is not a valid role.", code="invalid_choice")})
    inviter_role = workspace_role_of(workspace=workspace, user=invited_by)
    if inviter_role not in ADMIN_ROLES:
        raise PermissionDeniedError("Only a workspace owner or admin can invite.", code="role_required")
    if role == Role.OWNER and inviter_role != Role.OWNER:
        raise PermissionDeniedError("Only an owner can invite an owner.", code="owner_required")
    if Membership.objects.for_workspace(workspace).filter(user__email__iexact=email).exists():
        raise ValidationError(
            {"email": ValidationError("This person is already a member of the workspace.", code="already_member")}
        )
    _invitation_rate_check(email)
    now = dj_timezone.now()
    Invitation.objects.for_workspace(workspace).pending(now=now).filter(email__iexact=email).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + settings.INVITATION_TTL,
    )
    invitation.full_clean()
    invitation.save(force_insert=True)
    inviter_name = invited_by.get_full_name()
    transaction.on_commit(
        lambda: _send_invitation_email(invitation=invitation, token=token, inviter_name=inviter_name),
        robust=True,
    )
    invitation.token = token
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """Revokes a pending (or expired) invitation; revoking twice is a no-op."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been accepted.", code="invitation_used")
    if invitation.revoked_at is None:
        invitation.revoked_at = dj_timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def _require_usable(invitation: Invitation | None, *, token: str, now: datetime) -> Invitation:
    if invitation is None or not token:
        raise ApplicationError("This invitation token is not valid.", code="invalid_token")
    if invitation.accepted_at is not None:
        raise ApplicationError("This invitation has already been used.", code="invitation_used")
    if invitation.revoked_at is not None:
        raise ApplicationError("This invitation has been revoked.", code="invitation_revoked")
    if invitation.expires_at <= now:
        raise ApplicationError("This invitation has expired; ask for a new one.", code="invitation_expired")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User, now: datetime | None = None) -> Membership:
    """Makes ``user`` a member of the invitation's workspace.

    The token must belong to a pending invitation addressed to ``user``'s email (case
    does not matter). Someone who is already a member keeps their role; the invitation
    is used up either way.
    """
    now = now or dj_timezone.now()
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("workspace")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    invitation = _require_usable(invitation, token=token, now=now)
    require_verified(user)
    if invitation.email.lower() != (user.email or "").lower():
        raise PermissionDeniedError(
            "This invitation was sent to a different email address.", code="invitation_email_mismatch"
        )
    workspace = workspace_lock(invitation.workspace_id)
    membership, _ = Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": invitation.role})
    person_for_member(workspace=workspace, user=user)
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_signup(
    *, token: str, password: str, first_name: str = "", last_name: str = "", now: datetime | None = None
) -> Membership:
    """Creates the account of an invited person (email fixed to the invited one) and makes them a member.

    Following the emailed link proves the mailbox is theirs, so the account is verified at once.
    Refused like :func:`invitation_accept` for a used, revoked or expired invitation; an address
    that already has an account must sign in instead (``email_taken``). Nothing is written on refusal.
    """
    from accounts.models import User
    from accounts.registration import user_register

    now = now or dj_timezone.now()
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_token(token or "")).first()
    invitation = _require_usable(invitation, token=token, now=now)
    # The invitee holds a link sent to this mailbox, so saying the address has an account tells
    # them nothing new (unlike the public sign-up, which never says it).
    taken = ValidationError(
        {"email": [ValidationError("This address already has an account: sign in to accept.", code="email_taken")]}
    )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise taken
    user = user_register(
        email=invitation.email,
        password=password,
        first_name=first_name,
        last_name=last_name,
        now=now,
        email_verified=True,
    )
    if user is None:  # a sign-up with the same address won a race
        raise taken
    return invitation_accept(token=token, user=user, now=now)
