"""Validators shared by several apps: IANA time zones, E.164 phone numbers and Slack member ids."""

import re
import zoneinfo
from functools import cache

import phonenumbers
from django.core.exceptions import ValidationError

# A Slack member id (U…, or W… on Enterprise Grid).
SLACK_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{2,31}")


@cache
def available_timezones() -> tuple[str, ...]:
    """The IANA zones the service accepts (from tzdata, so the same on every machine)."""
    return tuple(sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC"))


def validate_timezone(value: str) -> None:
    if value not in _zone_set():
        raise ValidationError(
            f"'{value}' is not a known IANA time zone (e.g. 'Europe/Berlin').", code="invalid_timezone"
        )


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(available_timezones())


def normalize_phone(value: str) -> str:
    """Returns the E.164 form of ``value`` or raises ``ValidationError``.

    Only numbers already in international form (``+`` and country code) are accepted:
    guessing a region would silently text the wrong person.
    """
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            "Enter a phone number in international E.164 form, e.g. +14155550100.", code="invalid_phone"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"'{value}' is not a valid phone number.", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value: str) -> None:
    normalize_phone(value)
