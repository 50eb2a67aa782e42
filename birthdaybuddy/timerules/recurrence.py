"""The time engine: pure functions from a rule, a time zone and an instant to the next occurrence.

Nothing here touches the database or reads the clock; callers pass ``after`` in. All
instants in and out are aware UTC datetimes; local times are naive datetimes in the
rule's zone. The rules (DESIGN.md and the README, "Time rules"):

- a local time that does not exist (spring forward): reminders and digests fire at the
  first instant after it, the moment the clocks jump (:func:`local_to_utc`); events, which
  are published as iCalendar, take the instant RFC 5545 §3.3.5 gives it, the local time
  read with the UTC offset before the gap (:func:`local_to_utc_rfc5545`: 02:30 in New
  York on a spring-forward day is 03:30 EDT), as every calendar client does;
- an ambiguous local time (fall back) is its first occurrence, on every surface;
- a series keeps its wall-clock anchor: a rule whose first occurrence lies in a gap is
  still expanded from the local time it was written with (weekly at 02:30 stays 02:30);
- ``UNTIL`` ending in ``Z`` is a UTC instant that bounds the series inclusively (RFC 5545
  §3.3.10); RDATE adds and EXDATE removes local wall-clock times (§3.8.5.1, §3.8.5.2);
- Feb 29 is celebrated on Feb 28 or Mar 1 in common years, by workspace policy.
"""

from __future__ import annotations

import calendar
import dataclasses
import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from birthdaybuddy.timerules import rrules

LocalToUtc = Callable[[datetime, tzinfo], datetime]

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


def local_to_utc_rfc5545(local: datetime, tz: tzinfo) -> datetime:
    """The UTC instant RFC 5545 §3.3.5 gives the wall-clock time ``local`` (naive) in ``tz``.

    A time in a spring-forward gap is read with the UTC offset before the gap (02:30 in New
    York on 8 March 2026 is 07:30 UTC, 03:30 EDT); an ambiguous one is its first occurrence.
    That is ``zoneinfo``'s ``fold=0`` (PEP 495) in both cases.
    """
    if local.tzinfo is not None:
        raise ValueError("local must be naive")
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def wall_anchor(instant: datetime, *, tz: tzinfo, wall: datetime | None, to_utc: LocalToUtc = local_to_utc) -> datetime:
    """The local wall-clock time a series starting at ``instant`` is anchored at.

    ``wall`` is the local time the start was written with, when known. It wins when it still
    maps to ``instant`` — it differs from ``utc_to_local(instant)`` only in a spring-forward
    gap, where the instant's own wall time is the one after the jump — and is ignored when it
    no longer does (the instant or the zone changed since).
    """
    if wall is not None and to_utc(wall, tz) == instant:
        return wall
    return utc_to_local(instant, tz)


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


@dataclass(frozen=True, slots=True)
class Series:
    """A recurrence set as RFC 5545 defines it: an RRULE plus RDATEs minus EXDATEs, in local wall time.

    ``until`` is the RRULE's ``UNTIL`` when it was a UTC instant (``…Z``): an inclusive bound
    on each occurrence's instant, checked by :func:`next_rrule` after the wall time is mapped
    to UTC. ``rule`` then carries a loose local bound a day past it, only to end expansion.
    Iterates like a dateutil rule (``xafter``), so the engine takes either.
    """

    rule: rrule
    until: datetime | None = None
    rdates: tuple[datetime, ...] = ()
    exdates: frozenset[datetime] = field(default_factory=frozenset)
    # What the rule's text says, read from the text rather than from dateutil's private state:
    # the local anchor (DTSTART), the local end ``UNTIL`` gives (None: unbounded or COUNT),
    # ``FREQ`` (e.g. "WEEKLY"), ``INTERVAL`` and ``COUNT``.
    dtstart: datetime | None = None
    bound: datetime | None = None
    frequency: str = ""
    interval: int = 1
    count: int | None = None

    def xafter(self, cursor: datetime, inc: bool = False) -> Iterator[datetime]:
        extra = sorted(day for day in self.rdates if day > cursor or (inc and day == cursor))
        previous = None
        for local in heapq.merge(self.rule.xafter(cursor, inc=inc), extra):
            if local == previous or local in self.exdates:
                continue
            previous = local
            yield local

    def replace_rule(self, rule: rrule) -> Series:
        """The same series expanded by another (equivalent) rule, e.g. one moved forward."""
        return dataclasses.replace(self, rule=rule)


def split_until(text: str) -> tuple[str, str | None]:
    """The rule's text without ``UNTIL``, and ``UNTIL``'s value (or None)."""
    kept, until = [], None
    for part in text.strip().removeprefix("RRULE:").removeprefix("rrule:").split(";"):
        name, _, value = part.partition("=")
        if name.strip().upper() == "UNTIL":
            until = value.strip().upper()
        elif part.strip():
            kept.append(part.strip())
    return ";".join(kept), until


def parse_series(
    text: str,
    *,
    dtstart: datetime,
    tz: tzinfo,
    all_day: bool = False,
    rdates: Iterable[datetime] = (),
    exdates: Iterable[datetime] = (),
) -> Series:
    """The recurrence set of RRULE ``text`` anchored at naive local ``dtstart``, with RDATEs and EXDATEs.

    ``UNTIL`` as RFC 5545 §3.3.10 reads it next to a zoned start: ``…Z`` is a UTC instant,
    inclusive. Rules stored before that was enforced are read as they always meant: a bare
    date with a timed start is the end of that local day, a date-time without ``Z`` a local
    wall time. With an all-day start a ``…Z`` value bounds by its local date.
    Raises ``ValueError`` for anything malformed (see :func:`parse_rrule`).
    """
    body, until_text = split_until(text)
    rule = parse_rrule(body, dtstart=dtstart)
    named = rrules.parts(body)
    until: datetime | None = None
    bound: datetime | None = None
    if until_text:
        if len(until_text) == 8 and until_text.isdigit():
            bound = datetime.strptime(until_text, "%Y%m%d")  # noqa: DTZ007 - a local date
            if not all_day:
                bound = bound.replace(hour=23, minute=59, second=59)
        elif until_text.endswith("Z"):
            until = datetime.strptime(until_text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            local = utc_to_local(until, tz)
            bound = datetime.combine(local.date(), time()) if all_day else local + timedelta(days=1)
            if all_day:
                until = None
        else:
            bound = datetime.strptime(until_text, "%Y%m%dT%H%M%S")  # noqa: DTZ007 - a local wall time
        rule = rule.replace(until=bound)
    return Series(
        rule=rule,
        until=until,
        rdates=tuple(rdates),
        exdates=frozenset(exdates),
        dtstart=dtstart,
        bound=bound,
        frequency=named.get("FREQ", ""),
        interval=int(named.get("INTERVAL") or 1),
        count=int(named["COUNT"]) if named.get("COUNT") else None,
    )


def next_rrule(
    *, rule: rrule | Series, tz: tzinfo, after: datetime, to_utc: LocalToUtc = local_to_utc
) -> Occurrence | None:
    """The first occurrence of ``rule`` (expanded in local wall time) strictly after ``after``.

    Returns ``None`` when the rule has ended. Expansion starts a day before ``after``'s
    local time so that DST shifts never skip an occurrence. ``to_utc`` maps wall times to
    instants: the jump rule (reminders) or RFC 5545's (events).
    """
    _require_aware(after)
    cursor = utc_to_local(after, tz) - timedelta(days=1)
    until = rule.until if isinstance(rule, Series) else None
    # One pass over the rule: each ``rule.after`` call would expand it again from DTSTART.
    for local in rule.xafter(cursor, inc=False):
        instant = to_utc(local, tz)
        if until is not None and instant > until:
            continue  # the rule's own (local) bound, a day later, ends the loop
        if instant > after:
            return Occurrence(at=instant, local=local)
    return None


def occurrences_between(
    *,
    rule: rrule | Series,
    tz: tzinfo,
    start: datetime,
    end: datetime,
    limit: int = 1000,
    to_utc: LocalToUtc = local_to_utc,
) -> list[Occurrence]:
    """Occurrences with ``start < at <= end`` (windowed: unbounded rules are safe), at most ``limit``."""
    found: list[Occurrence] = []
    after = start
    while len(found) < limit:
        occurrence = next_rrule(rule=rule, tz=tz, after=after, to_utc=to_utc)
        if occurrence is None or occurrence.at > end:
            break
        found.append(occurrence)
        after = occurrence.at
    return found
