"""The time engine: pure functions from a rule, a time zone and an instant to the next occurrence.

Nothing here touches the database or reads the clock; callers pass ``after`` in. All
instants in and out are aware UTC datetimes; local times are naive datetimes in the
rule's zone. The rules (DESIGN.md, "Time rules"):

- a local time that does not exist (spring forward) fires at the first instant after
  it, i.e. the moment the clocks jump;
- an ambiguous local time (fall back) fires once, at its first occurrence;
- Feb 29 is celebrated on Feb 28 or Mar 1 in common years, by workspace policy.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

FEB28 = "feb28"
MAR1 = "mar1"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One firing: the UTC instant, and the local date/time it stands for."""

    at: datetime
    local: datetime

    @property
    def local_date(self) -> date:
        return self.local.date()


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")


def local_to_utc(local: datetime, tz: tzinfo) -> datetime:
    """The UTC instant at which the wall clock in ``tz`` shows ``local`` (naive).

    Nonexistent times map to the instant the clocks jump past them; ambiguous times to
    their first occurrence.
    """
    if local.tzinfo is not None:
        raise ValueError("local must be naive")
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == local:
        second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
        return min(first, second)
    # In a gap: fold=0 applies the offset before the jump (lands after the gap), fold=1
    # the offset after it (lands before). The jump lies between; find it to the second.
    low = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(tz).replace(tzinfo=None) > local:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def utc_to_local(instant: datetime, tz: tzinfo) -> datetime:
    _require_aware(instant)
    return instant.astimezone(tz).replace(tzinfo=None)


def next_daily(*, at: time, tz: tzinfo, after: datetime) -> Occurrence:
    """The first daily occurrence at local time ``at`` strictly after ``after``."""
    _require_aware(after)
    day = utc_to_local(after, tz).date() - timedelta(days=1)
    while True:
        local = datetime.combine(day, at)
        instant = local_to_utc(local, tz)
        if instant > after:
            return Occurrence(at=instant, local=local)
        day += timedelta(days=1)


def daily_occurrence_on(*, day: date, at: time, tz: tzinfo) -> Occurrence:
    """The daily occurrence that stands for local date ``day``."""
    local = datetime.combine(day, at)
    return Occurrence(at=local_to_utc(local, tz), local=local)


def celebration_date(*, month: int, day: int, year: int, leap_day_policy: str = FEB28) -> date:
    """The date in ``year`` on which a yearly month/day is celebrated (Feb 29 handled)."""
    if month == 2 and day == 29 and not calendar.isleap(year):
        return date(year, 3, 1) if leap_day_policy == MAR1 else date(year, 2, 28)
    return date(year, month, day)


def celebrates_on(*, month: int, day: int, on: date, leap_day_policy: str = FEB28) -> bool:
    return celebration_date(month=month, day=day, year=on.year, leap_day_policy=leap_day_policy) == on


def next_yearly(
    *, month: int, day: int, at: time, tz: tzinfo, after: datetime, leap_day_policy: str = FEB28
) -> Occurrence:
    """The first yearly occurrence of month/day at local ``at`` strictly after ``after``."""
    _require_aware(after)
    year = utc_to_local(after, tz).year - 1
    while True:
        local = datetime.combine(celebration_date(month=month, day=day, year=year, leap_day_policy=leap_day_policy), at)
        instant = local_to_utc(local, tz)
        if instant > after:
            return Occurrence(at=instant, local=local)
        year += 1


def parse_rrule(text: str, *, dtstart: datetime) -> rrule:
    """Parses RFC 5545 RRULE text (with or without the ``RRULE:`` prefix) anchored at naive ``dtstart``.

    Raises ``ValueError`` with dateutil's reason for anything malformed.
    """
    if dtstart.tzinfo is not None:
        raise ValueError("dtstart must be a naive local datetime")
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body:
        raise ValueError("expected a single RRULE line")
    rule = rrulestr(body, dtstart=dtstart, ignoretz=True)
    if not isinstance(rule, rrule):
        raise ValueError("expected a single RRULE")
    return rule


def next_rrule(*, rule: rrule, tz: tzinfo, after: datetime) -> Occurrence | None:
    """The first occurrence of ``rule`` (expanded in local wall time) strictly after ``after``.

    Returns ``None`` when the rule has ended. Expansion starts a day before ``after``'s
    local time so that DST shifts never skip an occurrence.
    """
    _require_aware(after)
    cursor = utc_to_local(after, tz) - timedelta(days=1)
    # One pass over the rule: each ``rule.after`` call would expand it again from DTSTART.
    for local in rule.xafter(cursor, inc=False):
        instant = local_to_utc(local, tz)
        if instant > after:
            return Occurrence(at=instant, local=local)
    return None


def occurrences_between(
    *, rule: rrule, tz: tzinfo, start: datetime, end: datetime, limit: int = 1000
) -> list[Occurrence]:
    """Occurrences with ``start < at <= end`` (windowed: unbounded rules are safe), at most ``limit``."""
    found: list[Occurrence] = []
    after = start
    while len(found) < limit:
        occurrence = next_rrule(rule=rule, tz=tz, after=after)
        if occurrence is None or occurrence.at > end:
            break
        found.append(occurrence)
        after = occurrence.at
    return found
