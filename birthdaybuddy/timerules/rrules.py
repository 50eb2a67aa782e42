"""RRULE text as RFC 5545 writes it: the syntax checks events and reminders share.

Pure (no models or settings), like ``recurrence``. :func:`syntax_error` says why a rule's
text is not one RFC 5545 allows, in words a user can act on, or ``None``: rule parts named
once each as ``NAME=VALUE``, only RFC 5545's parts (dateutil also takes ``BYEASTER``), a
``FREQ``, numbers in range, ``BYxxx`` parts only with the frequencies that may use them, a
``BYMONTH``/``BYMONTHDAY`` pair that can occur at all, and §3.3.10's "MUST NOT"s: ``UNTIL``
and ``COUNT`` together, a numeric ``BYDAY`` (``1MO``) outside MONTHLY/YEARLY or with
``BYWEEKNO``, ``BYSETPOS`` without another ``BYxxx`` part, and an ``UNTIL`` that is not
``YYYYMMDD`` or ``YYYYMMDDTHHMMSSZ`` — a date when the start is a date, a UTC date-time when
the start has a time (our timed starts are always in the workspace's zone). dateutil is
laxer than all of that and engines disagree on what it lets through (one calendar client
hangs on ``FREQ=DAILY;BYDAY=1MO``); some of it takes seconds to find that a rule never occurs.

Each caller then parses the rule and applies its own policy on top: events repeat at most
daily, with bounded ``COUNT``/``UNTIL`` and a start on an occurrence
(``occurrences.validated_rule``); reminders at most hourly, to the minute
(``reminders.validators.rrule_error``).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, tzinfo

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
FREQUENCIES = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
WEEKDAYS = frozenset({"MO", "TU", "WE", "TH", "FR", "SA", "SU"})
BY_PARTS = frozenset(name for name in RULE_PARTS if name.startswith("BY")) - {"BYSETPOS"}
START_DATE = "date"
START_DATE_TIME = "date-time"
_BYDAY_WEEKDAY = re.compile(r"[A-Z]{2}$")
_BYDAY_ITEM = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL_DATE = re.compile(r"\d{8}")
_UNTIL_UTC = re.compile(r"\d{8}T\d{6}Z")
_UNTIL_FLOATING = re.compile(r"\d{8}T\d{6}")


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


def syntax_error(text: str, *, start: str | None = None) -> str | None:
    """Why ``text`` is not an RFC 5545 RRULE (see the module docstring), or ``None``.

    ``start``: :data:`START_DATE` or :data:`START_DATE_TIME`, the value type of the start the
    rule repeats, which ``UNTIL`` must match; None skips that check (text stored earlier).
    """
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
    if frequency not in FREQUENCIES:
        return (
            "Not a valid RRULE (FREQ is required: SECONDLY, MINUTELY, HOURLY, DAILY, WEEKLY, MONTHLY or YEARLY)."
            if not frequency
            else f"Not a valid RRULE (unknown FREQ {frequency!r})."
        )
    for name, frequencies in ONLY_WITH.items():
        if name in found and frequency not in frequencies:
            return f"{name} cannot be used with FREQ={frequency} (RFC 5545)."
    problem = _byday_error(found, frequency) or _until_error(found, start)
    if problem:
        return problem
    if "BYSETPOS" in found and not BY_PARTS & found.keys():
        return "BYSETPOS needs another BYxxx rule part to pick from, e.g. BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1 (RFC 5545)."
    if "WKST" in found and found["WKST"] not in WEEKDAYS:
        return f"Not a valid RRULE (WKST must be a weekday such as MO, got {found['WKST']!r})."
    if not _month_day_possible(found):
        return "No month in BYMONTH has the day in BYMONTHDAY: this rule never occurs."
    return None


def _byday_error(found: dict[str, str], frequency: str) -> str | None:
    if "BYDAY" not in found:
        return None
    items = found["BYDAY"].split(",")
    if not all(_BYDAY_ITEM.fullmatch(item) for item in items):
        return f"Not a valid RRULE (BYDAY takes weekdays such as MO or 1MO, got {found['BYDAY']!r})."
    numbered = [item for item in items if not _BYDAY_WEEKDAY.fullmatch(item)]
    if numbered and frequency not in ("MONTHLY", "YEARLY"):
        return (
            f"A numbered BYDAY ({numbered[0]}) needs FREQ=MONTHLY or YEARLY (RFC 5545); "
            f"with FREQ={frequency} use plain weekdays such as BYDAY=MO."
        )
    if numbered and "BYWEEKNO" in found:
        return f"A numbered BYDAY ({numbered[0]}) cannot be used with BYWEEKNO (RFC 5545)."
    return None


def _until_error(found: dict[str, str], start: str | None) -> str | None:
    if "UNTIL" not in found:
        return None
    value = found["UNTIL"]
    if "COUNT" in found:
        return "UNTIL and COUNT cannot both be given (RFC 5545): choose one way to end the rule."
    if start == START_DATE:
        if not _UNTIL_DATE.fullmatch(value) or not _real(value, "%Y%m%d"):
            return f"UNTIL must be a date such as 20261231 for an all-day start (RFC 5545), got {value!r}."
        return None
    if _UNTIL_UTC.fullmatch(value) and _real(value, "%Y%m%dT%H%M%SZ"):
        return None
    if start is None and (
        (_UNTIL_DATE.fullmatch(value) and _real(value, "%Y%m%d"))
        or (_UNTIL_FLOATING.fullmatch(value) and _real(value, "%Y%m%dT%H%M%S"))
    ):
        return None
    return (
        f"UNTIL must be a UTC date-time such as 20261231T235959Z when the start has a time "
        f"(RFC 5545: it is an instant, compared with each occurrence's), got {value!r}."
    )


def _real(value: str, pattern: str) -> bool:
    try:
        datetime.strptime(value, pattern)  # noqa: DTZ007 - a syntax check only
    except ValueError:
        return False
    return True


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


# --- RDATE / EXDATE ---------------------------------------------------------------------------

MAX_DATES = 200


def wall_times(
    items: list, *, name: str, tz: tzinfo, all_day: bool, time_of_day: time | None
) -> tuple[list[str], str | None]:
    """RDATE/EXDATE values as stored: local dates (all-day series) or local wall times, sorted, once each.

    Each item is ISO 8601 text: a date (``2026-12-25``: for a timed series, the occurrence that
    day at the series' time of day, ``time_of_day``), a wall time in the workspace's zone
    (``2026-12-25T09:00``) or an instant with an offset (converted to the zone's wall time).
    Returns ``(values, None)`` or ``([], why)`` naming the value that is wrong.
    """
    if not isinstance(items, list) or len(items) > MAX_DATES:
        return [], f"{name} takes a list of at most {MAX_DATES} dates or date-times."
    found: set[str] = set()
    for item in items:
        value = _wall_time(item, tz=tz, all_day=all_day, time_of_day=time_of_day)
        if value is None:
            kind = (
                "a date such as 2026-12-25 (the series is all-day)"
                if all_day
                else "a date such as 2026-12-25 or a date-time such as 2026-12-25T09:00"
            )
            return [], f"{name}: {item!r} is not {kind}."
        found.add(value)
    return sorted(found), None


def _wall_time(item, *, tz: tzinfo, all_day: bool, time_of_day: time | None) -> str | None:
    if not isinstance(item, str) or not 10 <= len(item.strip()) <= 40:
        return None
    text = item.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if all_day:
                return day.isoformat()
            return datetime.combine(day, time_of_day or time()).isoformat()
        if all_day:
            return None
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(tz).replace(tzinfo=None)
    if not 1900 <= value.year <= 2999:
        return None
    return value.replace(microsecond=0).isoformat()


def parse_wall_times(values: list) -> list[datetime]:
    """Stored RDATE/EXDATE values as naive local datetimes (a date is its midnight); bad ones are skipped."""
    found = []
    for value in values or ():
        try:
            found.append(datetime.fromisoformat(value))
        except (TypeError, ValueError):
            continue
    return found


def parse_wall(value: str | None) -> datetime | None:
    """A stored local wall time (``YYYY-MM-DDTHH:MM:SS``) as a naive datetime, or None."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
