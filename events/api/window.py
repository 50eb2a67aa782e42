"""The calendar window of the event list: ``?from=&to=`` as dates or instants."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

from birthdaybuddy.timerules.occurrences import MAX_YEAR, MIN_YEAR
from birthdaybuddy.timerules.recurrence import local_to_utc
from events.selectors import MAX_WINDOW_DAYS

DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DEFAULT_WINDOW = timedelta(days=31)


def _bound(raw: str, *, tz: ZoneInfo, is_end: bool) -> datetime:
    raw = raw.strip()
    if DATE_RE.fullmatch(raw):
        day = parse_date(raw)
        if day is None:
            raise ValueError
        if is_end:  # a date as the end means "up to and including that day"
            day += timedelta(days=1)
        return local_to_utc(datetime.combine(day, time()), tz)
    if len(raw) > 40:
        raise ValueError
    value = parse_datetime(raw)
    if value is None:
        raise ValueError
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError
    if value.tzinfo is None or value.utcoffset() is None:
        return local_to_utc(value, tz)
    return value.astimezone(UTC)


def parse_window(params, *, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | None:
    """``(start, end)`` (UTC, end exclusive) from ``from``/``to``, or None when neither is given.

    A date is a local day in the workspace's zone (``to`` includes it); an instant may carry
    an offset or be naive (the workspace's zone). A missing ``from`` is now, a missing ``to``
    31 days after ``from``; the window may span at most 366 days.
    """
    raw = {name: params.get(name) for name in ("from", "to")}
    if not any(raw.values()):
        return None
    bounds: dict[str, datetime | None] = {"from": None, "to": None}
    errors = {}
    for name, value in raw.items():
        if not value:
            continue
        try:
            bounds[name] = _bound(value, tz=tz, is_end=name == "to")
        except (ValueError, OverflowError):
            errors[name] = ValidationError("Enter a date (YYYY-MM-DD) or an ISO 8601 date-time.", code="invalid_window")
    if errors:
        raise ValidationError(errors)
    start = bounds["from"] or now
    end = bounds["to"] or start + DEFAULT_WINDOW
    if end <= start:
        raise ValidationError({"to": ValidationError("Must be after `from`.", code="invalid_window")})
    if end - start > timedelta(days=MAX_WINDOW_DAYS + 1):
        raise ValidationError(
            {"to": ValidationError(f"The window may span at most {MAX_WINDOW_DAYS} days.", code="window_too_long")}
        )
    return start, end
