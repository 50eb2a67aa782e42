"""When each kind of reminder fires: its occurrences, quiet-hours deferral and lateness.

Built on the pure functions of ``scheduling/recurrence.py``; reads only the reminder, its
workspace and its event (already loaded by the caller), never the clock. Every instant is
aware UTC; local times are naive wall-clock times in the workspace's zone.

- ``birthday_digest``: daily at ``at_time`` (or the workspace's ``notify_at``).
- ``one_time``: once, at ``run_at``.
- ``recurring``: ``run_at`` is the first occurrence and anchors the RRULE (RFC 5545
  DTSTART): the rule is expanded in local wall time from ``run_at``'s local time.
- ``event``: each occurrence of the event (its own RRULE expanded the same way) gives one
  reminder occurrence ``offset_minutes`` before its start. All-day events, and reminders
  with an ``at_time``, fire on the local day ``offset_minutes`` before the start at
  ``at_time`` (or ``notify_at``): "3 days before at 09:00".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from events.models import EventStatus
from scheduling.recurrence import Occurrence as Slot
from scheduling.recurrence import (
    daily_occurrence_on,
    local_to_utc,
    next_daily,
    next_rrule,
    parse_rrule,
    utc_to_local,
)

TINY = timedelta(microseconds=1)
# A day and a DST shift: how far an "at 09:00 on the day" slot may lie from the event's start.
DAY_SLACK = timedelta(hours=26)
# Event occurrences looked at when searching one reminder slot (hourly events, month-long offsets).
MAX_EVENT_SCAN = 5_000
# An event reminder due at (or just before) the event's start still goes out this late.
EVENT_LATE_SLACK = timedelta(minutes=10)


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


def time_zone(reminder) -> ZoneInfo:
    return ZoneInfo(reminder.workspace.timezone)


def local_time(reminder) -> time:
    return reminder.at_time or reminder.workspace.notify_at


def event_is_live(event) -> bool:
    return event is not None and event.status != EventStatus.CANCELLED


def schedulable(reminder) -> bool:
    """Whether the reminder can have occurrences at all (an event reminder needs a live event)."""
    if reminder.kind == "event":
        return event_is_live(reminder.event)
    return True


# --- events ---------------------------------------------------------------------------------


def event_occurrences(event, *, tz: ZoneInfo, after: datetime) -> Iterator[EventOccurrence]:
    """The event's occurrences starting strictly after ``after``, in order (unbounded rules are lazy).

    The event's own start is its first occurrence (RFC 5545: DTSTART is always an instance),
    then those of its RRULE expanded in local wall time from that start.
    """
    if event.all_day:
        first_local = datetime.combine(event.date, time(0))
        first = local_to_utc(first_local, tz)
        duration = None
    else:
        first = event.starts_at
        first_local = utc_to_local(first, tz)
        duration = (event.ends_at - event.starts_at) if event.ends_at else None

    def make(at: datetime, local: datetime) -> EventOccurrence:
        if event.all_day:
            ends = local_to_utc(datetime.combine(local.date() + timedelta(days=1), time(0)), tz)
        else:
            ends = at + duration if duration else None
        return EventOccurrence(starts_at=at, local=local, all_day=event.all_day, ends_at=ends)

    if first > after:
        yield make(first, first_local)
    if not event.rrule:
        return
    try:
        rule = parse_rrule(event.rrule, dtstart=first_local.replace(microsecond=0))
    except (ValueError, TypeError, OverflowError):
        return
    cursor = max(after, first)
    while True:
        occurrence = next_rrule(rule=rule, tz=tz, after=cursor)
        if occurrence is None:
            return
        yield make(occurrence.at, occurrence.local)
        cursor = occurrence.at


def event_reminder_slot(reminder, occurrence: EventOccurrence, *, tz: ZoneInfo) -> Slot:
    """The reminder's firing for one event occurrence."""
    offset = timedelta(minutes=reminder.offset_minutes or 0)
    if occurrence.all_day or reminder.at_time:
        day = (occurrence.local - offset).date()
        return daily_occurrence_on(day=day, at=local_time(reminder), tz=tz)
    at = occurrence.starts_at - offset
    return Slot(at=at, local=utc_to_local(at, tz))


def event_slot_after(reminder, *, after: datetime) -> tuple[Slot, EventOccurrence] | None:
    """The first reminder slot strictly after ``after``, with the event occurrence it is for."""
    event = reminder.event
    if not event_is_live(event):
        return None
    tz = time_zone(reminder)
    offset = timedelta(minutes=reminder.offset_minutes or 0)
    # A slot lies within a day (plus DST) of start - offset: earlier occurrences cannot qualify, and
    # any occurrence starting after ``after + offset + DAY_SLACK`` does, so the scan is short.
    for scanned, occurrence in enumerate(event_occurrences(event, tz=tz, after=after + offset - DAY_SLACK)):
        if scanned >= MAX_EVENT_SCAN:
            return None
        slot = event_reminder_slot(reminder, occurrence, tz=tz)
        if slot.at > after:
            return slot, occurrence
    return None


def event_occurrence_for(reminder, slot: Slot) -> EventOccurrence | None:
    found = event_slot_after(reminder, after=slot.at - TINY)
    if found is None or found[0].at != slot.at:
        return None
    return found[1]


# --- every kind -----------------------------------------------------------------------------


def next_slot(reminder, *, after: datetime) -> Slot | None:
    """The reminder's first occurrence strictly after ``after`` (None when it has no more)."""
    kind = reminder.kind
    tz = time_zone(reminder)
    if kind == "birthday_digest":
        return next_daily(at=local_time(reminder), tz=tz, after=after)
    if kind == "one_time":
        if reminder.run_at is None or reminder.run_at <= after:
            return None
        return Slot(at=reminder.run_at, local=utc_to_local(reminder.run_at, tz))
    if kind == "recurring":
        if reminder.run_at is None:
            return None
        anchor = utc_to_local(reminder.run_at, tz)
        if reminder.run_at > after:
            return Slot(at=reminder.run_at, local=anchor)
        try:
            rule = parse_rrule(reminder.rrule, dtstart=anchor)
        except (ValueError, TypeError, OverflowError):
            return None
        return next_rrule(rule=rule, tz=tz, after=after)
    if kind == "event":
        found = event_slot_after(reminder, after=after)
        return found[0] if found else None
    raise ValueError(f"unknown reminder kind {kind!r}")


def quiet_hours_end(workspace, instant: datetime) -> datetime | None:
    """The end of the workspace's quiet hours if ``instant`` falls inside them, else None.

    Quiet hours are local ``[quiet_hours_start, quiet_hours_end)`` and may wrap past midnight
    (22:00-07:00); equal or missing bounds mean none.
    """
    start, end = workspace.quiet_hours_start, workspace.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    tz = ZoneInfo(workspace.timezone)
    local = utc_to_local(instant, tz)
    now_time = local.time()
    if start < end:
        if not start <= now_time < end:
            return None
        day = local.date()
    elif now_time >= start:
        day = local.date() + timedelta(days=1)
    elif now_time < end:
        day = local.date()
    else:
        return None
    return max(local_to_utc(datetime.combine(day, end), tz), instant)


def due_at(reminder, slot: Slot, *, event_occurrence: EventOccurrence | None = None) -> datetime:
    """When the tick should take ``slot``: its own instant, or the end of quiet hours.

    The digest's time is the admin's choice and urgent reminders go out regardless; an event
    reminder is never held past the start of the event it announces.
    """
    if reminder.kind == "birthday_digest" or reminder.urgent:
        return slot.at
    end = quiet_hours_end(reminder.workspace, slot.at)
    if end is None:
        return slot.at
    if reminder.kind == "event":
        occurrence = event_occurrence or event_occurrence_for(reminder, slot)
        if occurrence is not None and end >= occurrence.cutoff:
            return slot.at
    return end


def is_missed(reminder, slot: Slot, *, now: datetime, grace: timedelta) -> bool:
    """Too late to send: older than the grace period (counted from when it was due), a digest
    whose local day has ended, or an event reminder whose event is already under way."""
    due = due_at(reminder, slot)
    if now - due > grace:
        return True
    if reminder.kind == "birthday_digest":
        return utc_to_local(now, time_zone(reminder)).date() > slot.local_date
    if reminder.kind == "event":
        occurrence = event_occurrence_for(reminder, slot)
        if occurrence is not None and now > max(occurrence.cutoff, due + EVENT_LATE_SLACK):
            return True
    return False
