"""Every write to accounts: password reset, profile, deletion, staff edits, cleanup.

Sign-up and email verification are ``accounts.registration``.

Services raise Django's ``ValidationError`` (field problems) or ``ApplicationError`` (a rule
said no); the API's exception handler maps both to JSON. They never import DRF.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone as dj_timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.checks import date_of_birth_errors, field_errors, normalize_email
from accounts.lifecycle import profile_changed_steps_run
from accounts.mail import account_mail_send_logged
from accounts.models import User
from accounts.selectors import users_unverified_expired
from accounts.tokens import user_tokens_revoke
from birthdaybuddy.errors import ApplicationError, FieldErrors, PermissionDeniedError, raise_if_errors
from birthdaybuddy.links import absolute_reverse
from birthdaybuddy.validators import normalize_phone, validate_timezone

logger = logging.getLogger(__name__)

PROFILE_FIELDS = frozenset({"first_name", "last_name", "date_of_birth", "timezone", "phone", "slack_user_id"})
STAFF_EDITABLE_FIELDS = frozenset({"first_name", "last_name", "status", "is_active", "is_staff"})


# --- Password reset -----------------------------------------------------------------------


def password_reset_link(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_reverse("password-reset", kwargs={"uid": uid, "token": token})


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Mails a reset link if ``email`` belongs to an active user; says nothing either way."""
    user = User.objects.filter(email__iexact=normalize_email(email), is_active=True).first()
    if user is None:
        return
    context = {
        "user": user,
        "reset_url": password_reset_link(user=user),
        "ttl_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    transaction.on_commit(
        lambda: account_mail_send_logged(
            subject="Reset your BirthdayBuddy password",
            template="accounts/email/password_reset",
            context=context,
            to=user.email,
        )
    )


def password_reset_user(*, uid: str, token: str) -> User | None:
    """The user a reset link is for while it still works (unused, unexpired), else None. Writes nothing."""
    try:
        pk = uuid.UUID(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


def _user_from_uid(uid: str) -> User | None:
    try:
        pk = uuid.UUID(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.select_for_update().filter(pk=pk).first()


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Sets ``new_password`` if ``token`` is valid for the user; logs the user out everywhere.

    Django's token embeds the password hash and last login, so it works once.
    """
    user = _user_from_uid(uid)
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        raise ApplicationError(
            "This password reset link is invalid, used or expired. Ask for a new one.", code="invalid_token"
        )
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])  # ends every sign-in (accounts.signals)
    return user


# --- Profile and account deletion ---------------------------------------------------------


@transaction.atomic
def user_profile_update(*, user: User, data: dict[str, Any], now: datetime | None = None) -> User:
    """Updates the fields a user may change about themselves (``PROFILE_FIELDS``)."""
    now = now or dj_timezone.now()
    unknown = set(data) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    errors: FieldErrors = {}
    changes = dict(data)
    if "phone" in changes:
        try:
            changes["phone"] = normalize_phone(changes["phone"] or "")
        except ValidationError as exc:
            errors["phone"] = exc.error_list
    if "timezone" in changes and (tz_errors := field_errors(validate_timezone, changes["timezone"])):
        errors["timezone"] = tz_errors
    if "date_of_birth" in changes and (dob_errors := date_of_birth_errors(changes["date_of_birth"], now=now)):
        errors["date_of_birth"] = dob_errors
    raise_if_errors(errors)
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=[*changes, "updated_at"])
    profile_changed_steps_run(user, set(changes))
    return user


@transaction.atomic
def user_delete(*, user: User, password: str, refusals: Iterable[Callable[[User], None]] = ()) -> None:
    """Deletes the account (what refers to it cascades or is unlinked) after checking the password.

    ``refusals``: checks of the apps that keep data about the user, each raising an
    ``ApplicationError`` when the account may not go yet (``workspaces.account.account_delete``
    passes "the last owner of a workspace"). They run after the password check, in this
    transaction, before anything is deleted.
    """
    if not password or not user.check_password(password):
        raise PermissionDeniedError("The password is incorrect.", code="invalid_password")
    for refuse in refusals:
        refuse(user)
    user_tokens_revoke(user=user)
    user.delete()


# --- Staff administration -----------------------------------------------------------------


@transaction.atomic
def user_admin_update(*, actor: User, user: User, data: dict[str, Any]) -> User:
    """A staff member changes another user's names, status or flags.

    Only superusers grant or remove staff rights, and only superusers change (or deactivate)
    the account of another staff member or superuser: a plain staff member cannot lock the
    administrators out. Nobody deactivates or demotes themselves (that is how an
    installation loses its last administrator).
    """
    unknown = set(data) - STAFF_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"Not staff-editable fields: {sorted(unknown)}")
    changes = {field: value for field, value in data.items() if getattr(user, field) != value}
    if not actor.is_superuser:
        if changes and actor.pk != user.pk and (user.is_superuser or user.is_staff):
            raise PermissionDeniedError(
                "Only superusers can change the account of a staff member or superuser.", code="superuser_required"
            )
        if "is_staff" in changes:
            raise PermissionDeniedError("Only superusers can grant or remove staff rights.", code="superuser_required")
    if actor.pk == user.pk and (changes.get("is_active") is False or changes.get("is_staff") is False):
        raise ApplicationError("You cannot deactivate or demote your own account.", code="cannot_change_self")
    if "status" in changes and changes["status"] not in User.Status.values:
        raise ValidationError({"status": [ValidationError("Unknown status.", code="invalid_choice")]})
    for field, value in changes.items():
        setattr(user, field, value)
    if changes:
        user.save(update_fields=[*changes, "updated_at"])
    profile_changed_steps_run(user, set(changes))
    if changes.get("is_active") is False:
        user_tokens_revoke(user=user)
    return user


def user_deactivate(*, actor: User, user: User) -> User:
    """Staff "delete": the account stays (history, audit) but can no longer sign in."""
    return user_admin_update(actor=actor, user=user, data={"is_active": False})


# --- Housekeeping -------------------------------------------------------------------------


@transaction.atomic
def unverified_users_cleanup(*, now: datetime | None = None) -> list[str]:
    """Deletes users still ``pending`` ``UNVERIFIED_USER_TTL`` after sign-up; returns their emails."""
    expired = list(users_unverified_expired(now=now).select_for_update().values_list("pk", "email"))
    if not expired:
        return []
    # Re-checked in the DELETE itself: someone who verified a moment ago is kept.
    User.objects.filter(pk__in=[pk for pk, _ in expired], status=User.Status.PENDING).delete()
    return [email for _, email in expired]


@transaction.atomic
def admin_bootstrap(*, email: str, password: str, date_of_birth: date | None = None) -> tuple[User, bool]:
    """Creates or updates a verified superuser; returns ``(user, created)``. Safe to run repeatedly."""
    email = normalize_email(email)
    errors: FieldErrors = {}
    if not email:
        errors["email"] = [ValidationError("An email address is required.", code="required")]
    elif email_errors := field_errors(validate_email, email):
        errors["email"] = email_errors
    if not password:
        errors["password"] = [ValidationError("A password is required.", code="required")]
    raise_if_errors(errors)

    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_superuser(email=email, password=password, date_of_birth=date_of_birth)
        return user, True
    if not user.check_password(password):
        user.set_password(password)  # a changed password ends the account's sign-ins; the same one does not
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.status = User.Status.VERIFIED
    if date_of_birth is not None:
        user.date_of_birth = date_of_birth
    user.save()
    if date_of_birth is not None:
        profile_changed_steps_run(user, {"date_of_birth"})
    return user, False
