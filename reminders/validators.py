"""Checks on reminder input that need no database: RRULE text and message templates."""

from __future__ import annotations

import calendar
from datetime import datetime

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from scheduling.recurrence import parse_rrule

RRULE_MAX_CHARS = 500
# Reminders recur at most hourly: finer rules would flood people, and an occurrence is
# identified to the minute.
REFUSED_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY"})
# RFC 5545 §3.3.10: which BYxxx parts each frequency may use. dateutil is laxer, and the
# combinations it allows beyond these can take seconds to find that a rule never occurs.
ONLY_WITH = {
    "BYWEEKNO": frozenset({"YEARLY"}),
    "BYYEARDAY": frozenset({"YEARLY", "HOURLY"}),
    "BYMONTHDAY": frozenset({"YEARLY", "MONTHLY", "DAILY", "HOURLY"}),
}
NON_STANDARD = frozenset({"BYEASTER", "BYSECOND"})


def normalize_rrule(text: str) -> str:
    """RRULE text as stored: trimmed, upper-case, without the ``RRULE:`` prefix."""
    body = (text or "").strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    return body.strip().upper()


def _parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for item in normalize_rrule(text).split(";"):
        key, _, value = item.partition("=")
        parts[key.strip()] = value.strip()
    return parts


def _ints(value: str) -> list[int]:
    return [int(item) for item in value.split(",") if item.strip()]


def _month_day_possible(parts: dict[str, str]) -> bool:
    """False when BYMONTHDAY names only days that none of the BYMONTH months has (Feb 30, Apr 31)."""
    if "BYMONTHDAY" not in parts or "BYMONTH" not in parts:
        return True
    days = _ints(parts["BYMONTHDAY"])
    months = _ints(parts["BYMONTH"])
    longest = {month: calendar.monthrange(2024, month)[1] for month in months if 1 <= month <= 12}
    return any(abs(day) <= length for day in days for length in longest.values())


def rrule_error(text: str, *, dtstart: datetime) -> str | None:
    """Why ``text`` is not an acceptable reminder RRULE (None when it is).

    ``dtstart``: the naive local anchor the rule is expanded from.
    """
    if not text or not text.strip():
        return "Enter an RFC 5545 RRULE, e.g. FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15."
    if len(text) > RRULE_MAX_CHARS:
        return f"An RRULE may have at most {RRULE_MAX_CHARS} characters."
    try:
        parse_rrule(text, dtstart=dtstart)
        parts = _parts(text)
        interval = int(parts.get("INTERVAL", "1"))
        month_day_possible = _month_day_possible(parts)
    except (ValueError, TypeError, OverflowError) as exc:
        return f"Not a valid RRULE: {exc}."
    freq = parts.get("FREQ", "")
    if freq in REFUSED_FREQUENCIES:
        return "Reminders recur at most hourly: use FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY."
    unsupported = sorted(NON_STANDARD & parts.keys())
    if unsupported:
        return f"{unsupported[0]} is not supported."
    if not 1 <= interval <= 1000:
        return "INTERVAL must be between 1 and 1000."
    for name, frequencies in ONLY_WITH.items():
        if name in parts and freq not in frequencies:
            return f"{name} cannot be used with FREQ={freq} (RFC 5545)."
    if not month_day_possible:
        return "No month in BYMONTH has the day in BYMONTHDAY: this rule never occurs."
    return None


_environment = ImmutableSandboxedEnvironment()


def template_error(text: str) -> str | None:
    """Why the reminder's message template does not compile (None when it does)."""
    try:
        _environment.parse(text)
    except TemplateSyntaxError as exc:
        return f"Line {exc.lineno}: {exc.message}"
    return None
