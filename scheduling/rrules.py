"""RRULE text as RFC 5545 writes it: the syntax checks events and reminders share.

Pure (no models or settings), like ``recurrence``. :func:`syntax_error` says why a rule's
text is not one RFC 5545 allows, in words a user can act on, or ``None``: rule parts named
once each as ``NAME=VALUE``, only RFC 5545's parts (dateutil also takes ``BYEASTER``),
numbers in range, ``BYxxx`` parts only with the frequencies that may use them, and a
``BYMONTH``/``BYMONTHDAY`` pair that can occur at all. dateutil is laxer than all of that,
and some of what it lets through takes seconds to find that a rule never occurs.

Each caller then parses the rule and applies its own policy on top: events repeat at most
daily, with bounded ``COUNT``/``UNTIL`` and a start on an occurrence
(``events.occurrences.validated_rule``); reminders at most hourly, to the minute
(``reminders.validators.rrule_error``).
"""

from __future__ import annotations

import calendar
import re

RULE_PARTS = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
    }
)
# Absolute values allowed in numeric rule parts (RFC 5545 section 3.3.10); 0 is never allowed.
NUMBER_RANGES = {
    "BYMONTH": (1, 12),
    "BYMONTHDAY": (1, 31),
    "BYYEARDAY": (1, 366),
    "BYWEEKNO": (1, 53),
    "BYSETPOS": (1, 366),
    "BYDAY": (1, 53),
}
# RFC 5545 §3.3.10: which BYxxx parts each frequency may use.
ONLY_WITH = {
    "BYWEEKNO": frozenset({"YEARLY"}),
    "BYYEARDAY": frozenset({"YEARLY", "HOURLY", "MINUTELY", "SECONDLY"}),
    "BYMONTHDAY": frozenset({"YEARLY", "MONTHLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"}),
}
_BYDAY_WEEKDAY = re.compile(r"[A-Z]{2}$")


def normalize(text: str) -> str:
    """RRULE text as stored: trimmed, upper-case, without the ``RRULE:`` prefix."""
    body = (text or "").strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    return body.strip().upper()


def parts(text: str) -> dict[str, str]:
    """``{NAME: VALUE}`` of a rule's text (for text :func:`syntax_error` accepted)."""
    found: dict[str, str] = {}
    for item in normalize(text).split(";"):
        name, _, value = item.partition("=")
        found[name.strip()] = value.strip()
    return found


def syntax_error(text: str) -> str | None:
    """Why ``text`` is not an RFC 5545 RRULE (see the module docstring), or ``None``."""
    found: dict[str, str] = {}
    for part in normalize(text).split(";"):
        name, sep, value = (piece.strip() for piece in part.partition("="))
        if not sep or not value:
            return f"Not a valid RRULE (expected NAME=VALUE, got {part!r})."
        if name not in RULE_PARTS:
            return f"Not a valid RRULE (unknown rule part {name!r})."
        if name in found:
            return f"Not a valid RRULE ({name} appears twice)."
        found[name] = value
        if name in NUMBER_RANGES and not _numbers_in_range(name, value):
            return f"Not a valid RRULE ({name} value {value!r} is out of range)."
    frequency = found.get("FREQ", "")
    for name, frequencies in ONLY_WITH.items():
        if name in found and frequency not in frequencies:
            return f"{name} cannot be used with FREQ={frequency} (RFC 5545)."
    if not _month_day_possible(found):
        return "No month in BYMONTH has the day in BYMONTHDAY: this rule never occurs."
    return None


def _numbers_in_range(name: str, value: str) -> bool:
    low, high = NUMBER_RANGES[name]
    for item in value.split(","):
        number = _BYDAY_WEEKDAY.sub("", item) if name == "BYDAY" else item
        number = number.lstrip("+-")
        if name == "BYDAY" and not number:
            continue
        if not (number.isascii() and number.isdigit()) or not low <= int(number) <= high:
            return False
    return True


def _month_day_possible(found: dict[str, str]) -> bool:
    """False when BYMONTHDAY names only days that none of the BYMONTH months has (Feb 30, Apr 31)."""
    if "BYMONTHDAY" not in found or "BYMONTH" not in found:
        return True
    days = [int(item.lstrip("+-")) for item in found["BYMONTHDAY"].split(",")]
    months = [int(item) for item in found["BYMONTH"].split(",")]
    longest = [calendar.monthrange(2024, month)[1] for month in months]
    return any(day <= length for day in days for length in longest)
