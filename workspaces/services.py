"""Every write to workspaces, memberships and people goes through here (invitations: ``workspaces.invitations``).

Services are keyword-only and atomic. They raise Django's ``ValidationError`` for bad
values and ``ApplicationError`` (or a subclass) when a business rule says no; the API's
exception handler turns both into JSON. Role checks that depend on *whom* an action
targets (only an owner may make an owner, the last owner stays) live here; the coarse
"may this role call this endpoint" check lives in ``WorkspaceScopedMixin``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import date, time
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils.text import slugify

from birthdaybuddy.errors import Conflict, PermissionDeniedError
from birthdaybuddy.validators import normalize_phone
from workspaces.lifecycle import workspace_changed_steps_run, workspace_created_steps_run, workspace_field_values
from workspaces.models import (
    ADMIN_ROLES,
    PERSONAL_CHANNELS,
    CelebrationShift,
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
    | {"celebration_shift", "holiday_country", "holiday_region", "greet_in_own_zone"}
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


def require_verified(user: User) -> None:
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
    greet_in_own_zone: bool = False,
) -> Workspace:
    """Creates a workspace owned by ``creator`` and the creator's own Person in it.

    Without a ``slug`` one is made from the name and a random suffix (:func:`_new_slug`). An
    explicit slug (commands and seeds; the API does not take one) that is taken is a
    validation error.
    """
    require_verified(creator)
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
        greet_in_own_zone=greet_in_own_zone,
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
    person_for_member(workspace=workspace, user=creator)
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


def workspace_lock(workspace_id) -> Workspace:
    """Serialises membership changes of one workspace, so two demotions cannot both pass."""
    return Workspace.objects.select_for_update().get(pk=workspace_id)


def membership_role_of_actor(*, workspace: Workspace, actor: User) -> str | None:
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
    workspace = workspace_lock(membership.workspace_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    actor_role = membership_role_of_actor(workspace=workspace, actor=actor)
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
    workspace = workspace_lock(membership.workspace_id)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    is_self = membership.user_id == actor.pk
    actor_role = membership_role_of_actor(workspace=workspace, actor=actor)
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


# --- People -------------------------------------------------------------------------------


def _birthday_from_profile(user: User) -> dict[str, int | None]:
    born: date | None = getattr(user, "date_of_birth", None)
    if born is None or validate_birthday(born.month, born.day, born.year):
        return {}
    return {"birth_month": born.month, "birth_day": born.day, "birth_year": born.year}


def person_for_member(*, workspace: Workspace, user: User) -> Person:
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
        offered = set(PERSONAL_CHANNELS) if offered is None else set(offered)
        if (set(receive) | offered) - set(PERSONAL_CHANNELS):
            raise ValidationError({"receive": ValidationError("Unknown channel.", code="invalid_choice")})
        before = set(person.opted_out_channels or [])
        after = (before - offered) | (offered - set(receive))
        opted_out = [channel for channel in PERSONAL_CHANNELS if channel in after]
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
    if channel is not None and channel not in PERSONAL_CHANNELS:
        raise ValidationError({"channel": ValidationError("Unknown channel.", code="invalid_choice")})
    offered = set(PERSONAL_CHANNELS) if channel is None else {channel}
    return person_preferences_update(person=person, receive=set(), offered=offered)


@transaction.atomic
def person_preferences_links_revoke(*, person: Person) -> Person:
    """Every preferences link sent to the person so far stops working; new messages carry a new one."""
    person.preferences_key = secrets.token_hex(16)
    person.save(update_fields=["preferences_key", "updated_at"])
    return person
