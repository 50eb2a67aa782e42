"""Occurrences of events: RRULE validation and windowed expansion (pure functions, no database).

Built on the time engine's pure functions (``scheduling.recurrence``: ``parse_series``,
``local_to_utc_rfc5545``) so events expand like reminders, in the workspace's wall-clock
time from the start as written, with RDATE/EXDATE and ``UNTIL=…Z`` as an instant — but
with RFC 5545 §3.3.5's reading of a local time in a spring-forward gap (the UTC offset
before the gap: 02:30 → 03:30 EDT), because events are published as iCalendar and a
subscriber's calendar reads them that way; an ambiguous one (fall back) is its first
occurrence. ``scheduling.rrules`` holds a rule's text to RFC 5545 with the same words as a
reminder's. Both are leaves with no models or settings: the imports from ``scheduling`` a
domain app makes.

Expansion is always windowed: an unbounded rule never produces more than the window (and
``limit``) asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import islice
from typing import Protocol

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule

from scheduling import rrules
from scheduling.recurrence import Series, local_to_utc_rfc5545, parse_series, utc_to_local, wall_anchor

ALLOWED_FREQUENCIES = {YEARLY: "YEARLY", MONTHLY: "MONTHLY", WEEKLY: "WEEKLY", DAILY: "DAILY"}
MAX_INTERVAL = 1000
MAX_COUNT = 10_000
MIN_YEAR = 1900
MAX_YEAR = 2999
# The Gregorian calendar repeats exactly (weekdays, leap years, week numbers) every 400 years.
CALENDAR_CYCLE_YEARS = 400
# An occurrence that starts this long before a window can still reach into it.
DST_SLACK = timedelta(days=1)
DEFAULT_LIMIT = 1000


class Schedulable(Protocol):
    all_day: bool
    date: date | None
    starts_at: datetime | None
    ends_at: datetime | None
    rrule: str


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
    else the start as written (:func:`scheduling.recurrence.wall_anchor`, RFC 5545's reading of gaps)."""
    if event.all_day:
        return datetime.combine(event.date, time()) if event.date is not None else None
    if event.starts_at is None:
        return None
    wall = rrules.parse_wall(getattr(event, "starts_local", "") or "")
    return wall_anchor(event.starts_at, tz=tz, wall=wall, to_utc=local_to_utc_rfc5545)


def event_series(event: Schedulable, *, tz: tzinfo) -> Series:
    """The event's recurrence set (RRULE, RDATE, EXDATE) in local wall time; raises ``ValueError``."""
    return parse_series(
        event.rrule,
        dtstart=series_start(event, tz=tz).replace(microsecond=0),
        tz=tz,
        all_day=event.all_day,
        rdates=rrules.parse_wall_times(getattr(event, "rdates", None)),
        exdates=rrules.parse_wall_times(getattr(event, "exdates", None)),
    )


def validated_rule(
    text: str, *, dtstart: datetime, tz: tzinfo = UTC, all_day: bool = False, strict: bool = True
) -> rrule:
    """Parses and checks an event's RRULE anchored at its local (naive) start; raises :class:`RRuleError`.

    Refused besides what RFC 5545 forbids (``scheduling.rrules``; with ``strict`` also an
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
    if rule._freq not in ALLOWED_FREQUENCIES:
        raise RRuleError("Events repeat at most daily: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
    if not 1 <= rule._interval <= MAX_INTERVAL:
        raise RRuleError(f"INTERVAL must be between 1 and {MAX_INTERVAL}.")
    if rule._count is not None and not 1 <= rule._count <= MAX_COUNT:
        raise RRuleError(f"COUNT must be between 1 and {MAX_COUNT}.")
    before_start = (
        series.until < local_to_utc_rfc5545(dtstart, tz)
        if series.until is not None
        else rule._until is not None and rule._until < dtstart
    )
    if before_start:
        raise RRuleError("UNTIL is before the start.", code="rrule_until_before_start")
    if rule._until is not None and rule._until.year > MAX_YEAR:
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


def _fast_forward(rule: rrule, before: datetime) -> rrule:
    """The same rule with its start moved forward by whole periods, to just before ``before``.

    Daily and weekly rules without COUNT generate the same set from any start that is a
    whole number of ``INTERVAL`` periods later, so expanding a window years after the start
    need not walk every period in between.
    """
    if rule._count is not None or rule._freq not in (DAILY, WEEKLY):
        return rule
    dtstart = rule._dtstart
    period = timedelta(days=rule._interval * (7 if rule._freq == WEEKLY else 1))
    periods = (before - dtstart) // period - 1
    if periods <= 0:
        return rule
    return rule.replace(dtstart=dtstart + period * periods)


def _local_occurrences(series: Series, *, after: datetime) -> Iterator[datetime]:
    iterator = series.replace_rule(_fast_forward(series.rule, after)).xafter(after, inc=True)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except (ValueError, IndexError, OverflowError):
            # dateutil fails on some exotic rules near the calendar's edges (e.g. the year 9999):
            # treat that as the end of the series rather than an error for the whole list.
            return


def spans_between(
    event: Schedulable, *, tz: tzinfo, start: datetime, end: datetime, limit: int = DEFAULT_LIMIT
) -> list[Span]:
    """The occurrences of ``event`` that overlap ``[start, end)`` (aware instants), in order, at most ``limit``.

    A timed occurrence overlaps when it starts before ``end`` and ends after ``start`` (one
    without an end: starts within the window). An all-day occurrence overlaps when its local
    date is one of the window's local days.
    """
    if event.all_day:
        return _all_day_spans(event, tz=tz, start=start, end=end, limit=limit)
    return _timed_spans(event, tz=tz, start=start, end=end, limit=limit)


def _overlaps(begin: datetime, finish: datetime | None, *, start: datetime, end: datetime) -> bool:
    if finish is None or finish == begin:
        return start <= begin < end
    return begin < end and finish > start


def _timed_spans(event: Schedulable, *, tz: tzinfo, start: datetime, end: datetime, limit: int) -> list[Span]:
    first, last = event.starts_at, event.ends_at
    if first is None:
        return []
    duration = (last - first) if last is not None else None
    if not event.rrule:
        return [Span(first, last)] if _overlaps(first, last, start=start, end=end) else []
    series = event_series(event, tz=tz)
    lookback = (duration or timedelta(0)) + DST_SLACK
    spans: list[Span] = []
    # From the anchor itself when the window reaches back to the start (in a gap its wall time lies
    # before the start instant's own), else from a local time safely before the window.
    after = series.rule._dtstart if start - lookback <= first else utc_to_local(start - lookback, tz)
    for local in _local_occurrences(series, after=after):
        instant = local_to_utc_rfc5545(local, tz)
        if instant >= end:
            break
        if series.until is not None and instant > series.until:
            continue
        finish = instant + duration if duration is not None else None
        if _overlaps(instant, finish, start=start, end=end):
            spans.append(Span(instant, finish))
            if len(spans) >= limit:
                break
    return spans


def local_days(*, tz: tzinfo, start: datetime, end: datetime) -> tuple[date, date]:
    """The first and last local dates that ``[start, end)`` touches."""
    return utc_to_local(start, tz).date(), utc_to_local(end - timedelta(microseconds=1), tz).date()


def _all_day_spans(event: Schedulable, *, tz: tzinfo, start: datetime, end: datetime, limit: int) -> list[Span]:
    if event.date is None:
        return []
    first_day, last_day = local_days(tz=tz, start=start, end=end)
    if not event.rrule:
        return [Span(date=event.date)] if first_day <= event.date <= last_day else []
    series = event_series(event, tz=tz)
    after = datetime.combine(max(first_day, event.date), time())
    days: Iterable[datetime] = _local_occurrences(series, after=after)
    spans = []
    for local in islice(days, limit):
        if local.date() > last_day:
            break
        spans.append(Span(date=local.date()))
    return spans


def first_conflict(candidate: list[Span], others: list[tuple[object, Span]]) -> tuple[object, Span, Span] | None:
    """The earliest overlap between ``candidate`` spans and ``others`` (each tagged with its owner).

    Returns ``(owner, their span, our span)`` or None. A sweep over both lists sorted by
    start: whenever a span begins, it overlaps the other side iff the latest-ending span
    seen so far on the other side ends after it begins.
    """
    timeline = sorted(
        [(span.starts_at, 0, None, span) for span in candidate]
        + [(span.starts_at, 1, owner, span) for owner, span in others],
        key=lambda item: (item[0], item[1]),
    )
    latest: dict[int, tuple[object, Span] | None] = {0: None, 1: None}
    for begin, side, owner, span in timeline:
        other = latest[1 - side]
        if other is not None and other[1].ends_at > begin:
            theirs, ours = (other, (owner, span)) if side == 0 else ((owner, span), other)
            return theirs[0], theirs[1], ours[1]
        current = latest[side]
        if current is None or span.ends_at > current[1].ends_at:
            latest[side] = (owner, span)
    return None
