"""Checks shared by the account services: an email's normal form, a date of birth, a validator's errors."""

from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError

from accounts.models import User

EARLIEST_DATE_OF_BIRTH = date(1900, 1, 1)


def normalize_email(email: str) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


def latest_today(now: datetime) -> date:
    """The latest calendar date anywhere on Earth (UTC+14): a birth date after it is in the future."""
    return (now.astimezone(UTC) + timedelta(hours=14)).date()


def date_of_birth_errors(value: date | None, *, now: datetime) -> list[ValidationError]:
    if value is None:
        return []
    if value > latest_today(now):
        return [ValidationError("A date of birth cannot be in the future.", code="future_date")]
    if value < EARLIEST_DATE_OF_BIRTH:
        return [ValidationError("A date of birth must be in 1900 or later.", code="too_early")]
    return []


def field_errors(validator, value) -> list[ValidationError]:
    try:
        validator(value)
    except ValidationError as exc:
        return exc.error_list
    return []
