"""Sign-up and email verification: register, send or resend a code, verify by code or link.

Same conventions as ``accounts.services``: ``ValidationError`` for field problems,
``ApplicationError`` when a rule says no; never DRF.
"""

import logging
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone as dj_timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.checks import date_of_birth_errors, field_errors, normalize_email
from accounts.mail import account_mail_send_logged
from accounts.models import EmailVerification, User
from birthdaybuddy.errors import ApplicationError, FieldErrors, raise_if_errors
from birthdaybuddy.links import absolute_reverse
from birthdaybuddy.validators import validate_timezone

logger = logging.getLogger(__name__)

_CODE_SALT = "accounts.EmailVerification.code"
VERIFY_LINK_SALT = "accounts.verification-link"


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
    email = normalize_email(email)
    errors: FieldErrors = {}
    if email_errors := field_errors(validate_email, email):
        errors["email"] = email_errors
    candidate = User(email=email, first_name=first_name, last_name=last_name)
    if password_errors := field_errors(lambda value: validate_password(value, user=candidate), password):
        errors["password"] = password_errors
    if dob_errors := date_of_birth_errors(date_of_birth, now=now):
        errors["date_of_birth"] = dob_errors
    if tz_errors := field_errors(validate_timezone, timezone):
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
        lambda: account_mail_send_logged(
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
        lambda: account_mail_send_logged(
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
        .filter(email__iexact=normalize_email(email), status=User.Status.PENDING, is_active=True)
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
    if error is not None or user is None:
        raise error or _invalid_code()
    return user


def _user_verify_attempt(*, email: str, code: str, now: datetime) -> tuple[User | None, ApplicationError | None]:
    user = User.objects.select_for_update().filter(email__iexact=normalize_email(email), is_active=True).first()
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
