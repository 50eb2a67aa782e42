"""Every write to accounts: sign-up, email verification, password reset, profile, deletion, cleanup.

Services raise Django's ``ValidationError`` (field problems) or ``ApplicationError`` (a rule
said no); the API's exception handler maps both to JSON. They never import DRF.
"""

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.lifecycle import profile_changed_steps_run
from accounts.mail import account_mail_send
from accounts.models import EmailVerification, User
from accounts.selectors import users_unverified_expired
from accounts.tokens import user_tokens_revoke
from birthdaybuddy.errors import ApplicationError, FieldErrors, PermissionDeniedError, raise_if_errors
from birthdaybuddy.links import absolute_reverse
from birthdaybuddy.validators import normalize_phone, validate_timezone

logger = logging.getLogger(__name__)

_CODE_SALT = "accounts.EmailVerification.code"
VERIFY_LINK_SALT = "accounts.verification-link"
EARLIEST_DATE_OF_BIRTH = date(1900, 1, 1)
PROFILE_FIELDS = frozenset({"first_name", "last_name", "date_of_birth", "timezone", "phone", "slack_user_id"})
STAFF_EDITABLE_FIELDS = frozenset({"first_name", "last_name", "status", "is_active", "is_staff"})


def _normalize_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


def _latest_today(now: datetime) -> date:
    """The latest calendar date anywhere on Earth (UTC+14): a birth date after it is in the future."""
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


def _date_of_birth_errors(value: date | None, *, now: datetime) -> list[ValidationError]:
    if value is None:
        return []
    if value > _latest_today(now):
        return [ValidationError("A date of birth cannot be in the future.", code="future_date")]
    if value < EARLIEST_DATE_OF_BIRTH:
        return [ValidationError("A date of birth must be in 1900 or later.", code="too_early")]
    return []


def _field_errors(validator, value) -> list[ValidationError]:
    try:
        validator(value)
    except ValidationError as exc:
        return exc.error_list
    return []


def _send_mail_logged(*, subject: str, template: str, context: dict[str, Any], to: str) -> None:
    """Sends one email (``template``.txt and .html); a mail server failure is logged, never raised."""
    try:
        account_mail_send(subject=subject, template=template, context=context, to=to)
    except Exception:
        logger.exception("Could not send %s to a user", template)


# --- Sign-up and email verification -------------------------------------------------------


def _code_hash(*, user_id: uuid.UUID, code: str) -> str:
    return salted_hmac(_CODE_SALT, f"{user_id}:{code}", algorithm="sha256").hexdigest()


@transaction.atomic
def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    date_of_birth: date | None = None,
    timezone: str = "UTC",
    now: datetime | None = None,
    email_verified: bool = False,
) -> User | None:
    """Creates a ``pending`` user and mails a verification code once the transaction commits.

    The caller cannot tell a new address from one that has an account (no enumeration): the
    input is judged the same way, and for an existing address the account's owner gets an
    email instead (a new code if it is still pending, else "you already have an account").
    Returns the new user, or ``None`` when the address was taken.

    ``email_verified``: the caller has proof the person reads that mailbox (they followed a link
    sent there, e.g. a workspace invitation): the user is ``verified`` at once and no code is sent.
    """
    now = now or dj_timezone.now()
    email = _normalize_email(email)
    errors: FieldErrors = {}
    if email_errors := _field_errors(validate_email, email):
        errors["email"] = email_errors
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    if password_errors := _field_errors(lambda value: validate_password(value, user=candidate), password):
        errors["password"] = password_errors
    if dob_errors := _date_of_birth_errors(date_of_birth, now=now):
        errors["date_of_birth"] = dob_errors
    if tz_errors := _field_errors(validate_timezone, timezone):
        errors["timezone"] = tz_errors
    raise_if_errors(errors)

    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is not None:
        make_password(password)  # as long as a sign-up takes: the timing tells nothing either
        _registration_for_existing(user=existing, now=now)
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                date_of_birth=date_of_birth,
                timezone=timezone,
                status=User.Status.VERIFIED if email_verified else User.Status.PENDING,
                created_at=now,
            )
    except IntegrityError:  # a concurrent sign-up with the same address won the race
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            _registration_for_existing(user=existing, now=now)
        return None
    if not email_verified:
        verification_send(user=user, now=now)
    return user


def _registration_for_existing(*, user: User, now: datetime) -> None:
    """Someone signed up with the address of an account: its owner hears about it, nobody else."""
    if not user.is_active:
        return
    if user.status == User.Status.PENDING:
        verification_send(user=user, now=now)
        return
    context = {"user": user, "forgot_url": absolute_reverse("password-forgot")}
    transaction.on_commit(
        lambda: _send_mail_logged(
            subject="You already have a BirthdayBuddy account",
            template="accounts/email/account_exists",
            context=context,
            to=user.email,
        )
    )


@transaction.atomic
def verification_send(*, user: User, now: datetime | None = None) -> EmailVerification:
    """Invalidates the user's open codes, stores a new one's hash and mails the code after commit."""
    now = now or dj_timezone.now()
    user.verifications.filter(used_at__isnull=True, invalidated_at__isnull=True).update(invalidated_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    verification = EmailVerification.objects.create(
        user=user,
        code_hash=_code_hash(user_id=user.pk, code=code),
        created_at=now,
        expires_at=now + settings.VERIFICATION_CODE_TTL,
    )
    context = {
        "user": user,
        "code": code,
        "verify_url": verification_link(email=user.email, code=code),
        "ttl_minutes": int(settings.VERIFICATION_CODE_TTL.total_seconds() // 60),
        "max_attempts": settings.VERIFICATION_CODE_MAX_ATTEMPTS,
    }
    transaction.on_commit(
        lambda: _send_mail_logged(
            subject=f"Your BirthdayBuddy code: {code}",
            template="accounts/email/verification_code",
            context=context,
            to=user.email,
        )
    )
    return verification


def verification_link(*, email: str, code: str) -> str:
    """A link that confirms ``email`` in the browser: the code, signed so it cannot be altered.

    It carries nothing the email does not already show, and the code keeps its own rules
    (latest code only, attempts, expiry), since the page verifies through :func:`user_verify`.
    """
    value = signing.dumps({"e": email, "c": code}, salt=VERIFY_LINK_SALT, compress=True)
    return absolute_reverse("email-verify", kwargs={"token": value})


def verification_link_read(token: str) -> tuple[str, str] | None:
    """``(email, code)`` of a verification link, or None when it was altered or is too old."""
    try:
        data = signing.loads(token, salt=VERIFY_LINK_SALT, max_age=settings.VERIFICATION_CODE_TTL)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), str) or not isinstance(data.get("c"), str):
        return None
    return data["e"], data["c"]


@transaction.atomic
def verification_resend(*, email: str, now: datetime | None = None) -> None:
    """Sends a fresh code if ``email`` belongs to an active, still pending user; otherwise does nothing."""
    user = (
        User.objects.select_for_update()
        .filter(email__iexact=_normalize_email(email), status=User.Status.PENDING, is_active=True)
        .first()
    )
    if user is not None:
        verification_send(user=user, now=now)


def _invalid_code(**extra: Any) -> ApplicationError:
    return ApplicationError(
        "This code is not valid. Check it, or ask for a new one.", code="invalid_code", extra=extra or None
    )


def _too_many_attempts() -> ApplicationError:
    return ApplicationError(
        "Too many wrong codes: this code no longer works. Ask for a new one.", code="too_many_attempts"
    )


def user_verify(*, email: str, code: str, now: datetime | None = None) -> User:
    """Marks the user ``verified`` if ``code`` is their latest, unexpired, unused code.

    Deliberately not one atomic block around the whole call: a wrong guess is counted (and
    committed) even though the call then fails. Unknown and already verified addresses get
    the same ``invalid_code`` answer as a wrong code.
    """
    now = now or dj_timezone.now()
    with transaction.atomic():
        user, error = _user_verify_attempt(email=email, code=code, now=now)
    if error is not None:
        raise error
    return user


def _user_verify_attempt(*, email: str, code: str, now: datetime) -> tuple[User | None, ApplicationError | None]:
    user = User.objects.select_for_update().filter(email__iexact=_normalize_email(email), is_active=True).first()
    if user is None or user.status != User.Status.PENDING:
        return None, _invalid_code()
    verification = EmailVerification.objects.select_for_update().filter(user=user).order_by("-created_at").first()
    max_attempts = settings.VERIFICATION_CODE_MAX_ATTEMPTS
    if verification is None or verification.used_at is not None:
        return None, _invalid_code()
    if verification.attempts >= max_attempts:
        return None, _too_many_attempts()
    if verification.invalidated_at is not None:
        return None, _invalid_code()
    if verification.expires_at <= now:
        return None, ApplicationError("This code has expired. Ask for a new one.", code="code_expired")
    if not constant_time_compare(verification.code_hash, _code_hash(user_id=user.pk, code=code)):
        verification.attempts += 1
        remaining = max_attempts - verification.attempts
        if remaining <= 0:
            verification.invalidated_at = now
            verification.save(update_fields=["attempts", "invalidated_at"])
            return None, _too_many_attempts()
        verification.save(update_fields=["attempts"])
        return None, _invalid_code(attempts_remaining=remaining)
    verification.used_at = now
    verification.save(update_fields=["used_at"])
    user.status = User.Status.VERIFIED
    user.save(update_fields=["status", "updated_at"])
    return user, None


# --- Password reset -----------------------------------------------------------------------


def password_reset_link(*, user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_reverse("password-reset", kwargs={"uid": uid, "token": token})


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Mails a reset link if ``email`` belongs to an active user; says nothing either way."""
    user = User.objects.filter(email__iexact=_normalize_email(email), is_active=True).first()
    if user is None:
        return
    context = {
        "user": user,
        "reset_url": password_reset_link(user=user),
        "ttl_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    transaction.on_commit(
        lambda: _send_mail_logged(
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
    if "timezone" in changes and (tz_errors := _field_errors(validate_timezone, changes["timezone"])):
        errors["timezone"] = tz_errors
    if "date_of_birth" in changes and (dob_errors := _date_of_birth_errors(changes["date_of_birth"], now=now)):
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
    email = _normalize_email(email)
    errors: FieldErrors = {}
    if not email:
        errors["email"] = [ValidationError("An email address is required.", code="required")]
    elif email_errors := _field_errors(validate_email, email):
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
