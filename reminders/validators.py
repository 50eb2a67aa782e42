"""Checks on reminder input that need no database: RRULE text and message templates."""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.recurrence import parse_series

RRULE_MAX_CHARS = 500
# Reminders recur at most hourly: finer rules would flood people, and an occurrence is
# identified to the minute (hence no BYSECOND either).
REFUSED_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY"})
UNSUPPORTED_PARTS = frozenset({"BYSECOND"})


def rrule_error(text: str, *, dtstart: datetime, strict: bool = True) -> str | None:
    """Why ``text`` is not an acceptable reminder RRULE (None when it is).

    ``dtstart``: the naive local anchor the rule is expanded from. RFC 5545's own rules come
    first (``birthdaybuddy.timerules.rrules``, shared with events: the start has a time, so ``UNTIL`` is a
    UTC instant; ``strict=False`` lets a rule stored before that was enforced keep its
    ``UNTIL``), then the reminders' policy.
    """
    if not text or not text.strip():
        return "Enter an RFC 5545 RRULE, e.g. FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15."
    if len(text) > RRULE_MAX_CHARS:
        return f"An RRULE may have at most {RRULE_MAX_CHARS} characters."
    problem = rrules.syntax_error(text, start=rrules.START_DATE_TIME if strict else None)
    if problem:
        return problem
    try:
        parse_series(text, dtstart=dtstart, tz=UTC)
        parts = rrules.parts(text)
        interval = int(parts.get("INTERVAL", "1"))
    except (ValueError, TypeError, OverflowError) as exc:
        return f"Not a valid RRULE: {exc}."
    if parts.get("FREQ", "") in REFUSED_FREQUENCIES:
        return "Reminders recur at most hourly: use FREQ=HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY."
    unsupported = sorted(UNSUPPORTED_PARTS & parts.keys())
    if unsupported:
        return f"{unsupported[0]} is not supported."
    if not 1 <= interval <= 1000:
        return "INTERVAL must be between 1 and 1000."
    return None


_environment = ImmutableSandboxedEnvironment()


def template_error(text: str) -> str | None:
    """Why the reminder's message template does not compile (None when it does)."""
    try:
        _environment.parse(text)
    except TemplateSyntaxError as exc:
        return f"Line {exc.lineno}: {exc.message}"
    return None
