"""Every write to workspaces, memberships, invitations and people goes through here.

Services are keyword-only and atomic. They raise Django's ``ValidationError`` for bad
values and ``ApplicationError`` (or a subclass) when a business rule says no; the API's
exception handler turns both into JSON. Role checks that depend on *whom* an action
targets (only an owner may make an owner, the last owner stays) live here; the coarse
"may this role call this endpoint" check lives in ``WorkspaceScopedMixin``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.mail import account_mail_send
from birthdaybuddy import ratelimit
from birthdaybuddy.errors import ApplicationError, Conflict, PermissionDeniedError
from birthdaybuddy.i18n import language_of
from birthdaybuddy.links import absolute_reverse
from birthdaybuddy.tokens import hash_token
from birthdaybuddy.validators import normalize_phone
from workspaces.lifecycle import workspace_changed_steps_run, workspace_created_steps_run, workspace_field_values
from workspaces.models import (
    ADMIN_ROLES,
    CelebrationShift,
    Channel,
    Invitation,
    LeapDayPolicy,
    Membership,
    Person,
    Role,
    Workspace,
    validate_birthday,
)
from workspaces.selectors import workspace_role_of

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

WORKSPACE_EDITABLE_FIELDS = frozenset(
    {"name", "slug", "timezone", "notify_at", "leap_day_policy", "locale", "quiet_hours_start", "quiet_hours_end"}
    | {"celebration_shift", "holiday_country", "holiday_region"}
)
PERSON_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "slack_user_id",
        "birth_month",
        "birth_day",
        "birth_year",
        "joined_on",
        "show_age",
        "celebrate_birthday",
        "celebrate_anniversary",
        "language",
        "preferred_channels",
        "opted_out_channels",
    }
)
SLUG_MAX_LENGTH = Workspace._meta.get_field("slug").max_length


# --- Workspaces ---------------------------------------------------------------------------


def _require_verified(user: User) -> None:
    if not getattr(user, "is_verified", False):
        raise PermissionDeniedError("Verify your email address first.", code="email_not_verified")


def _new_slug(name: str) -> str:
    """The name's slug with a random suffix, whatever other workspaces are called.

    Slugs are unique across tenants, so a slug that depended on which ones exist ("acme" when
    free, "acme-2" when taken, or a refusal of a chosen one) would tell anyone who creates a
    workspace whether a company uses the service. A random suffix says nothing.
    """
    base = slugify(name)[: SLUG_MAX_LENGTH - 7].strip("-") or "workspace"
    return f"{base}-{secrets.token_hex(3)}"


@transaction.atomic
def workspace_create(
    *,
    creator: User,
    name: str,
    slug: str | None = None,
    timezone: str | None = None,
    notify_at: time | None = None,
    leap_day_policy: str = LeapDayPolicy.FEB28,
    locale: str = "en",
    quiet_hours_start: time | None = None,
    quiet_hours_end: time | None = None,
    celebration_shift: str = CelebrationShift.ON_DAY,
    holiday_country: str = "",
    holiday_region: str = "",
) -> Workspace:
    """Creates a workspace owned by ``creator`` and the creator's own Person in it.

    Without a ``slug`` one is made from the name and a random suffix (:func:`_new_slug`). An
    explicit slug (commands and seeds; the API does not take one) that is taken is a
    validation error.
    """
    _require_verified(creator)
    explicit_slug = bool(slug)
    workspace = Workspace(
        name=name,
        slug=slug or _new_slug(name),
        timezone=timezone or settings.DEFAULT_WORKSPACE_TIMEZONE,
        leap_day_policy=leap_day_policy,
        locale=locale,
        quiet_hours_start=quiet_hours_start,
        quiet_hours_end=quiet_hours_end,
        celebration_shift=celebration_shift,
        holiday_country=holiday_country,
        holiday_region=holiday_region,
        created_by=creator,
    )
    if notify_at is not None:
        workspace.notify_at = notify_at
    workspace.full_clean()
    for attempt in range(3):
        try:
            with transaction.atomic():
                workspace.save(force_insert=True)
            break
        except IntegrityError:
            # Another request took the slug between our check and the insert.
            if explicit_slug or attempt == 2:
                raise ValidationError({"slug": ValidationError("This slug is already taken.", code="unique")}) from None
            workspace.slug = _new_slug(name)
    Membership.objects.create(workspace=workspace, user=creator, role=Role.OWNER)
    _person_for_member(workspace=workspace, user=creator)
    workspace_created_steps_run(workspace)  # e.g. the reminders: its birthday digest
    return workspace


@transaction.atomic
def workspace_update(*, workspace: Workspace, data: Mapping[str, Any]) -> Workspace:
    """Changes the workspace's settings; the apps above follow (the reminders reschedule)."""
    unknown = set(data) - WORKSPACE_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    before = workspace_field_values(workspace)
    for field, value in data.items():
        setattr(workspace, field, value)
    workspace.full_clean()
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError:
        raise ValidationError({"slug": ValidationError("This slug is already taken.", code="unique")}) from None
    workspace_changed_steps_run(workspace, before)
    return workspace


@transaction.atomic
def workspace_delete(*, workspace: Workspace) -> None:
    """Deletes the workspace with its memberships, invitations and people."""
    workspace.delete()


# --- Memberships --------------------------------------------------------------------------


def _lock_workspace(workspace_id) -> Workspace:
    """Serialises membership changes of one workspace, so two demotions cannot both pass."""
    return Workspace.objects.select_for_update().get(pk=workspace_id)


def _actor_role(*, workspace: Workspace, actor: User) -> str | None:
    return workspace_role_of(workspace=workspace, user=actor)


def _other_owners_exist(membership: Membership) -> bool:
    return Membership.objects.for_workspace(membership.workspace_id).owners().exclude(pk=membership.pk).exists()


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor: User) -> Membership:
    """Gives ``membership`` a new role.

    Owners and admins may change roles; only an owner may grant or take away the owner
    role; the last owner cannot be demoted.
    """
    if role not in Role.values:
        raise ValidationError({"role": ValidationError(f"'{role}' is not a valid role.", code="invalid_choice")})
    workspace = _lock_workspace(membership.workspace_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    actor_role = _actor_role(workspace=workspace, actor=actor)
    if actor_role not in ADMIN_ROLES:
        raise PermissionDeniedError("Only a workspace owner or admin can change roles.", code="role_required")
    if role == membership.role:
        return membership
    if Role.OWNER in (role, membership.role) and actor_role != Role.OWNER:
        raise PermissionDeniedError("Only an owner can grant or revoke the owner role.", code="owner_required")
    if membership.role == Role.OWNER and not _other_owners_exist(membership):
        raise Conflict(
            "The workspace's last owner cannot be demoted; make someone else an owner first.", code="last_owner"
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """Removes a member (or lets a member leave).

    Owners and admins may remove members; anyone may remove themself; only an owner may
    remove another owner; the last owner cannot be removed. The member's Person stays in
    the workspace, unlinked from their account (owners/admins may delete it).
    """
    workspace = _lock_workspace(membership.workspace_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    is_self = membership.user_id == actor.pk
    actor_role = _actor_role(workspace=workspace, actor=actor)
    if not is_self and actor_role not in ADMIN_ROLES:
        raise PermissionDeniedError("Only a workspace owner or admin can remove other members.", code="role_required")
    if membership.role == Role.OWNER and not is_self and actor_role != Role.OWNER:
        raise PermissionDeniedError("Only an owner can remove an owner.", code="owner_required")
    if membership.role == Role.OWNER and not _other_owners_exist(membership):
        raise Conflict(
            "The workspace's last owner cannot be removed; make someone else an owner first or delete the workspace.",
            code="last_owner",
        )
    Person.objects.for_workspace(workspace).filter(user_id=membership.user_id).update(
        user=None, updated_at=dj_timezone.now()
    )
    membership.delete()


# --- Invitations --------------------------------------------------------------------------


def _accept_url(token: str) -> str:
    return absolute_reverse("invitation", kwargs={"token": token})


def _send_invitation_email(*, invitation: Invitation, token: str, inviter_name: str) -> None:
    language = language_of(workspace=invitation.workspace)
    with translation.override(language):
        context = {
            "workspace": invitation.workspace,
            "workspace_name": invitation.workspace.name,
            "inviter_name": inviter_name or invitation.workspace.name,
            "role": {Role.OWNER: _("owner"), Role.ADMIN: _("admin"), Role.MEMBER: _("member")}[invitation.role],
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
    inviter_role = _actor_role(workspace=workspace, actor=invited_by)
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


def _require_usable(invitation: Invitation | None, *, token: str, now: datetime) -> None:
    if invitation is None or not token:
        raise ApplicationError("This invitation token is not valid.", code="invalid_token")
    if invitation.accepted_at is not None:
        raise ApplicationError("This invitation has already been used.", code="invitation_used")
    if invitation.revoked_at is not None:
        raise ApplicationError("This invitation has been revoked.", code="invitation_revoked")
    if invitation.expires_at <= now:
        raise ApplicationError("This invitation has expired; ask for a new one.", code="invitation_expired")


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
    _require_usable(invitation, token=token, now=now)
    _require_verified(user)
    if invitation.email.lower() != (user.email or "").lower():
        raise PermissionDeniedError(
            "This invitation was sent to a different email address.", code="invitation_email_mismatch"
        )
    workspace = _lock_workspace(invitation.workspace_id)
    membership, _ = Membership.objects.get_or_create(workspace=workspace, user=user, defaults={"role": invitation.role})
    _person_for_member(workspace=workspace, user=user)
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
    from accounts import services as account_services
    from accounts.models import User

    now = now or dj_timezone.now()
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_token(token or "")).first()
    _require_usable(invitation, token=token, now=now)
    # The invitee holds a link sent to this mailbox, so saying the address has an account tells
    # them nothing new (unlike the public sign-up, which never says it).
    taken = ValidationError(
        {"email": [ValidationError("This address already has an account: sign in to accept.", code="email_taken")]}
    )
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise taken
    user = account_services.user_register(
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


# --- People -------------------------------------------------------------------------------


def _birthday_from_profile(user: User) -> dict[str, int | None]:
    born: date | None = getattr(user, "date_of_birth", None)
    if born is None or validate_birthday(born.month, born.day, born.year):
        return {}
    return {"birth_month": born.month, "birth_day": born.day, "birth_year": born.year}


def _person_for_member(*, workspace: Workspace, user: User) -> Person:
    """The member's Person in ``workspace``, linked to their account.

    An existing unlinked Person with the same email (say, added as a client earlier) is
    linked rather than duplicated; empty birthday fields are filled from the profile.
    Otherwise a Person is created from the profile, with the age hidden.
    """
    existing = Person.objects.for_workspace(workspace).filter(user=user).first()
    if existing is not None:
        return existing
    profile_birthday = _birthday_from_profile(user)
    person = (
        Person.objects.for_workspace(workspace)
        .filter(user__isnull=True, email__iexact=user.email)
        .order_by("created_at")
        .first()
    )
    if person is not None:
        person.user = user
        if person.birth_month is None and profile_birthday:
            for field, value in profile_birthday.items():
                setattr(person, field, value)
        person.save()
        return person
    return Person.objects.create(
        workspace=workspace,
        user=user,
        name=user.get_full_name()[:200],
        email=user.email,
        phone=getattr(user, "phone", "") or "",
        slack_user_id=getattr(user, "slack_user_id", "") or "",
        show_age=False,
        **profile_birthday,
    )


def _clean_person_data(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - PERSON_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    cleaned = dict(data)
    if "phone" in cleaned:
        try:
            cleaned["phone"] = normalize_phone(cleaned["phone"] or "")
        except ValidationError as exc:
            raise ValidationError({"phone": exc.error_list}) from None
    for field in ("name", "email", "slack_user_id"):
        if isinstance(cleaned.get(field), str):
            cleaned[field] = cleaned[field].strip()
    return cleaned


@transaction.atomic
def person_create(*, workspace: Workspace, **data: Any) -> Person:
    """Adds a person (usually an external client; members get theirs when they join)."""
    person = Person(workspace=workspace, **_clean_person_data(data))
    person.full_clean()
    person.save(force_insert=True)
    return person


@transaction.atomic
def person_update(*, person: Person, data: Mapping[str, Any]) -> Person:
    for field, value in _clean_person_data(data).items():
        setattr(person, field, value)
    person.full_clean()
    person.save()
    return person


@transaction.atomic
def person_delete(*, person: Person) -> None:
    person.delete()


# --- A person's own preferences (the link in every message) --------------------------------------


@transaction.atomic
def person_preferences_update(
    *,
    person: Person,
    receive: set[str] | None = None,
    offered: set[str] | None = None,
    language: str | None = None,
) -> Person:
    """What the person chose on their preferences page: the channels they still want, and a language.

    Of the ``offered`` channels (default: all), those in ``receive`` are wanted and the others
    opted out; channels not offered keep their state. It is the same ``opted_out_channels`` the
    API and Twilio's STOP use, and an opted-out channel leaves ``preferred_channels``. The
    change is audited like any change of a person.
    """
    person = Person.objects.select_for_update().select_related("workspace").get(pk=person.pk)
    fields: list[str] = []
    if receive is not None:
        offered = set(Channel.values) if offered is None else set(offered)
        if (set(receive) | offered) - set(Channel.values):
            raise ValidationError({"receive": ValidationError("Unknown channel.", code="invalid_choice")})
        before = set(person.opted_out_channels or [])
        after = (before - offered) | (offered - set(receive))
        opted_out = [channel for channel in Channel.values if channel in after]
        preferred = [channel for channel in person.preferred_channels or [] if channel not in after]
        if (opted_out, preferred) != (person.opted_out_channels, person.preferred_channels):
            person.opted_out_channels, person.preferred_channels = opted_out, preferred
            fields += ["opted_out_channels", "preferred_channels"]
    if language is not None and language != person.language:
        person.language = language
        fields.append("language")
    if fields:
        person.full_clean()
        person.save(update_fields=[*fields, "updated_at"])
    return person


@transaction.atomic
def person_unsubscribe(*, person: Person, channel: str | None = None) -> Person:
    """Opts the person out of ``channel`` (None: of everything); unsubscribing twice changes nothing."""
    if channel is not None and channel not in Channel.values:
        raise ValidationError({"channel": ValidationError("Unknown channel.", code="invalid_choice")})
    offered = set(Channel.values) if channel is None else {channel}
    return person_preferences_update(person=person, receive=set(), offered=offered)


@transaction.atomic
def person_preferences_links_revoke(*, person: Person) -> Person:
    """Every preferences link sent to the person so far stops working; new messages carry a new one."""
    person.preferences_key = secrets.token_hex(16)
    person.save(update_fields=["preferences_key", "updated_at"])
    return person
