"""The one expander of event occurrences, and an event's RRULE policy (pure functions, no database).

Built on the occurrence engine (``recurrence``: ``parse_series``, ``local_to_utc_rfc5545``) so
events expand like reminders, in the workspace's wall-clock time from the start as written,
with RDATE/EXDATE and ``UNTIL=…Z`` as an instant — but with RFC 5545 §3.3.5's reading of a
local time in a spring-forward gap (the UTC offset before the gap: 02:30 → 03:30 EDT),
because events are published as iCalendar and a subscriber's calendar reads them that way; an
ambiguous one (fall back) is its first occurrence. ``rrules`` holds a rule's text to RFC 5545
with the same words as a reminder's.

:func:`event_occurrences` is the expansion every surface uses — calendar windows and
conflicts (:func:`spans_between`), event reminders (``reminders/slots.py``), feeds: the
start itself is always the first occurrence (RFC 5545 §3.8.5.3: DTSTART counts as the first
instance), then the rule's (RDATEs added, EXDATEs removed). It is lazy and starts near the
instant asked for, so unbounded rules are safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from dateutil.rrule import rrule

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.recurrence import (
    Series,
    local_to_utc,
    local_to_utc_rfc5545,
    parse_series,
    utc_to_local,
    wall_anchor,
)

ALLOWED_FREQUENCIES = frozenset({"YEARLY", "MONTHLY", "WEEKLY", "DAILY"})
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
MIN_YEAR = 1900
MAX_YEAR = 2999
# The Gregorian calendar repeats exactly (weekdays, leap years, week numbers) every 400 years.
CALENDAR_CYCLE_YEARS = 400
# An occurrence that starts this long before a window can still reach into it.
DST_SLACK = timedelta(days=1)
DEFAULT_LIMIT = 1000
TINY = timedelta(microseconds=1)


class Schedulable(Protocol):
    all_day: bool
    date: date | None
    starts_at: datetime | None
    ends_at: datetime | None
    rrule: str


@dataclass(frozen=True, slots=True)
class EventOccurrence:
    """One occurrence of an event: its UTC start, local start and when it is over."""

    starts_at: datetime
    local: datetime
    all_day: bool
    ends_at: datetime | None

    @property
    def cutoff(self) -> datetime:
        """After this instant a reminder of it is pointless: a timed event has begun, an all-day one's day is over."""
        return (self.ends_at or self.starts_at) if self.all_day else self.starts_at


@dataclass(frozen=True, slots=True)
class Span:
    """One occurrence: timed (``starts_at``/``ends_at`` in UTC; ``ends_at`` may be None) or all-day (``date``)."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    date: date | None = None

    def as_dict(self) -> dict:
        return {"starts_at": self.starts_at, "ends_at": self.ends_at, "date": self.date}


class RRuleError(ValueError):
    """An RRULE that cannot be used; ``code`` says why."""

    def __init__(self, message: str, code: str = "invalid_rrule"):
        super().__init__(message)
        self.message = message
        self.code = code


def normalize_rrule(text: str) -> str:
    """RRULE text as stored: trimmed, upper-case, without the ``RRULE:`` prefix (``UNTIL`` as given)."""
    return rrules.normalize(text)


def series_start(event: Schedulable, *, tz: tzinfo) -> datetime | None:
    """The local wall time the event's series is anchored at (DTSTART): midnight of an all-day date,
    else the start as written (:func:`recurrence.wall_anchor`, RFC 5545's reading of gaps)."""
    if event.all_day:
        return datetime.combine(event.date, time()) if event.date is not None else None
    if event.starts_at is None:
        return None
    wall = rrules.parse_wall(getattr(event, "starts_local", "") or "")
    return wall_anchor(event.starts_at, tz=tz, wall=wall, to_utc=local_to_utc_rfc5545)


def event_series(event: Schedulable, *, tz: tzinfo) -> Series:
    """The event's recurrence set (RRULE, RDATE, EXDATE) in local wall time; raises ``ValueError``."""
    anchor = series_start(event, tz=tz)
    if anchor is None:
        raise ValueError("the event has no start")
    return parse_series(
        event.rrule,
        dtstart=anchor.replace(microsecond=0),
        tz=tz,
        all_day=event.all_day,
        rdates=rrules.parse_wall_times(getattr(event, "rdates", None) or []),
        exdates=rrules.parse_wall_times(getattr(event, "exdates", None) or []),
    )


def validated_rule(
    text: str, *, dtstart: datetime, tz: tzinfo = UTC, all_day: bool = False, strict: bool = True
) -> rrule:
    """Parses and checks an event's RRULE anchored at its local (naive) start; raises :class:`RRuleError`.

    Refused besides what RFC 5545 forbids (``rrules``; with ``strict`` also an
    ``UNTIL`` whose type does not match the start, which rules stored earlier may have):
    repeating more often than daily, ``INTERVAL`` outside 1..1000, ``COUNT`` outside
    1..10000, an ``UNTIL`` before the start, and a start that is not itself an occurrence of
    the rule (RFC 5545 leaves that case undefined; calendar clients disagree about it).
    """
    start_type = (rrules.START_DATE if all_day else rrules.START_DATE_TIME) if strict else None
    problem = rrules.syntax_error(text, start=start_type)
    if problem:
        raise RRuleError(problem)
    try:
        series = parse_series(text, dtstart=dtstart, tz=tz, all_day=all_day)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise RRuleError(f"Not a valid RFC 5545 RRULE ({exc}).") from exc
    rule = series.rule
    if series.frequency not in ALLOWED_FREQUENCIES:
        raise RRuleError("Events repeat at most daily: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
    if not 1 <= series.interval <= MAX_INTERVAL:
        raise RRuleError(f"INTERVAL must be between 1 and {MAX_INTERVAL}.")
    if series.count is not None and not 1 <= series.count <= MAX_COUNT:
        raise RRuleError(f"COUNT must be between 1 and {MAX_COUNT}.")
    before_start = (
        series.until < local_to_utc_rfc5545(dtstart, tz)
        if series.until is not None
        else series.bound is not None and series.bound < dtstart
    )
    if before_start:
        raise RRuleError("UNTIL is before the start.", code="rrule_until_before_start")
    if series.bound is not None and series.bound.year > MAX_YEAR:
        raise RRuleError(f"UNTIL must be before the year {MAX_YEAR + 1} (or leave the rule unbounded).")
    if not _starts_on_an_occurrence(rule, dtstart):
        raise RRuleError(
            f"The start ({dtstart:%A %Y-%m-%d %H:%M}) is not an occurrence of the rule; "
            "start on the rule's first occurrence.",
            code="rrule_start_mismatch",
        )
    return rule


def _starts_on_an_occurrence(rule: rrule, dtstart: datetime) -> bool:
    # dateutil checks UNTIL only when it finds a candidate, so a rule that never matches
    # would scan to the year 9999. The calendar repeats every 400 years, so the same question
    # asked of a copy moved into the last 400-year block costs at most 400 years of scanning.
    shift = max(0, (9998 - dtstart.year) // CALENDAR_CYCLE_YEARS) * CALENDAR_CYCLE_YEARS
    probe_start = dtstart.replace(year=dtstart.year + shift)
    probe = rule.replace(dtstart=probe_start, until=probe_start, count=None)
    try:
        first = next(iter(probe), None)
    except (ValueError, OverflowError, IndexError, KeyError, TypeError):
        return False
    return first == probe_start


def _fast_forward(series: Series, before: datetime) -> rrule:
    """The series' rule with its start moved forward by whole periods, to just before ``before``.

    Daily and weekly rules without COUNT generate the same set from any start that is a
    whole number of ``INTERVAL`` periods later, so expanding a window years after the start
    need not walk every period in between.
    """
    rule = series.rule
    if series.count is not None or series.frequency not in ("DAILY", "WEEKLY") or series.dtstart is None:
        return rule
    period = timedelta(days=series.interval * (7 if series.frequency == "WEEKLY" else 1))
    periods = (before - series.dtstart) // period - 1
    if periods <= 0:
        return rule
    return rule.replace(dtstart=series.dtstart + period * periods)


def _local_occurrences(series: Series, *, after: datetime) -> Iterator[datetime]:
    """The series' local wall times from ``after`` (inclusive), in order."""
    iterator = series.replace_rule(_fast_forward(series, after)).xafter(after, inc=True)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except (ValueError, IndexError, OverflowError):
            # dateutil fails on some exotic rules near the calendar's edges (e.g. the year 9999):
            # treat that as the end of the series rather than an error for the whole list.
            return


def event_occurrences(event: Schedulable, *, tz: tzinfo, after: datetime) -> Iterator[EventOccurrence]:
    """The event's occurrences starting strictly after ``after`` (aware), in order; lazy.

    The start itself comes first (RFC 5545: DTSTART is always an instance, unless an EXDATE
    removes it), then the rule's occurrences expanded in local wall time from that start.
    Timed occurrences take RFC 5545's instant for each wall time (a gap takes the offset before
    it), as subscribed calendars show them; all-day ones start when their local day does. A
    rule that cannot be read has no occurrences besides the start.
    """
    duration: timedelta | None = None
    if event.all_day:
        if event.date is None:
            return
        first_local = datetime.combine(event.date, time(0))
        first = local_to_utc(first_local, tz)
        to_utc = local_to_utc
    else:
        anchor_local = series_start(event, tz=tz)
        if event.starts_at is None or anchor_local is None:
            return
        first, first_local = event.starts_at, anchor_local
        duration = (event.ends_at - event.starts_at) if event.ends_at else None
        to_utc = local_to_utc_rfc5545

    def occurrence(at: datetime, local: datetime) -> EventOccurrence:
        ends: datetime | None
        if event.all_day:
            ends = local_to_utc(datetime.combine(local.date() + timedelta(days=1), time(0)), tz)
        else:
            ends = at + duration if duration else None
        return EventOccurrence(starts_at=at, local=local, all_day=event.all_day, ends_at=ends)

    if not event.rrule:
        if first > after:
            yield occurrence(first, first_local)
        return
    try:
        series = event_series(event, tz=tz)
    except (ValueError, TypeError, OverflowError):
        return
    anchor = first_local.replace(microsecond=0)
    if first > after and anchor not in series.exdates:
        yield occurrence(first, first_local)
    # A day before ``after``'s wall time, so that no DST shift skips one; never before the start.
    cursor = max(utc_to_local(max(after, first), tz) - DST_SLACK, anchor)
    for local in _local_occurrences(series, after=cursor):
        if local <= anchor:
            continue  # the start, already given
        instant = to_utc(local, tz)
        if series.until is not None and instant > series.until:
            continue  # the rule's own (local) bound, a day later, ends the loop
        if instant > after and instant > first:
            yield occurrence(instant, local)


def spans_between(
    event: Schedulable, *, tz: tzinfo, start: datetime, end: datetime, limit: int = DEFAULT_LIMIT
) -> list[Span]:
    """The occurrences of ``event`` that overlap ``[start, end)`` (aware instants), in order, at most ``limit``.

    A timed occurrence overlaps when it starts before ``end`` and ends after ``start`` (one
    without an end: starts within the window). An all-day occurrence overlaps when its local
    date is one of the window's local days.
    """
    spans: list[Span] = []
    if limit <= 0:
        return spans
    if event.all_day:
        if event.date is None:
            return spans
        first_day, last_day = local_days(tz=tz, start=start, end=end)
        since = local_to_utc(datetime.combine(first_day, time(0)), tz) - TINY
        for found in event_occurrences(event, tz=tz, after=since):
            if found.local.date() > last_day:
                break
            if found.local.date() >= first_day:
                spans.append(Span(date=found.local.date()))
                if len(spans) >= limit:
                    break
        return spans
    if event.starts_at is None:
        return spans
    duration = (event.ends_at - event.starts_at) if event.ends_at is not None else timedelta(0)
    # An occurrence starting this long before the window cannot reach into it.
    for found in event_occurrences(event, tz=tz, after=start - duration - DST_SLACK):
        if found.starts_at >= end:
            break
        if _overlaps(found.starts_at, found.ends_at, start=start, end=end):
            spans.append(Span(found.starts_at, found.ends_at))
            if len(spans) >= limit:
                break
    return spans


def _overlaps(begin: datetime, finish: datetime | None, *, start: datetime, end: datetime) -> bool:
    if finish is None or finish == begin:
        return start <= begin < end
    return begin < end and finish > start


def local_days(*, tz: tzinfo, start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last local dates that ``[start, end)`` touches."""
    return utc_to_local(start, tz).date(), utc_to_local(end - timedelta(microseconds=1), tz).date()


def first_conflict(candidate: list[Span], others: list[tuple[object, Span]]) -> tuple[object, Span, Span] | None:
    """The earliest overlap between ``candidate`` spans and ``others`` (each tagged with its owner).

    Returns ``(owner, their span, our span)`` or None. A sweep over both lists sorted by
    start: whenever a span begins, it overlaps the other side iff the latest-ending span
    seen so far on the other side ends after it begins.
    """
    timeline = sorted(
        [(*_timed(span), 0, None, span) for span in candidate]
        + [(*_timed(span), 1, owner, span) for owner, span in others],
        key=lambda item: (item[0], item[2]),
    )
    latest: dict[int, tuple[datetime, object, Span] | None] = {0: None, 1: None}
    for begin, finish, side, owner, span in timeline:
        other = latest[1 - side]
        if other is not None and other[0] > begin:
            theirs, ours = ((other[1], other[2]), (owner, span)) if side == 0 else ((owner, span), (other[1], other[2]))
            return theirs[0], theirs[1], ours[1]
        current = latest[side]
        if current is None or finish > current[0]:
            latest[side] = (finish, owner, span)
    return None


def _timed(span: Span) -> tuple[datetime, datetime]:
    """A timed span's start and end (conflicts are only looked for between appointments, which have both)."""
    if span.starts_at is None or span.ends_at is None:
        raise ValueError("a conflict needs timed spans with an end")
    return span.starts_at, span.ends_at
