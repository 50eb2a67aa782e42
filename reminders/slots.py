"""When each kind of reminder fires: its occurrences, quiet-hours deferral and lateness.

Built on the pure time rules of ``birthdaybuddy/timerules/``; reads only the reminder, its
workspace and its event (already loaded by the caller), never the clock. Every instant is
aware UTC; local times are naive wall-clock times in the workspace's zone.

- ``birthday_digest``: daily at ``at_time`` (or the workspace's ``notify_at``).
- ``one_time``: once, at ``run_at``.
- ``recurring``: ``run_at`` is the first occurrence and anchors the RRULE (RFC 5545
  DTSTART): the rule (with its RDATEs and EXDATEs) is expanded in local wall time from the
  local time ``at`` was written with; ``UNTIL=…Z`` bounds each occurrence's instant.
- ``event``: each occurrence of the event (``birthdaybuddy.timerules.occurrences.event_occurrences``,
  the expansion calendars and conflicts use too) gives one reminder occurrence
  ``offset_minutes`` before its start. All-day events, and reminders
  with an ``at_time``, fire on the local day ``offset_minutes`` before the start at
  ``at_time`` (or ``notify_at``): "3 days before at 09:00".
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.occurrences import EventOccurrence, event_occurrences
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from birthdaybuddy.timerules.recurrence import (
    Series,
    daily_occurrence_on,
    local_to_utc,
    next_daily,
    next_rrule,
    parse_series,
    utc_to_local,
    wall_anchor,
)
from events.models import EventStatus

TINY = timedelta(microseconds=1)
# A day and a DST shift: how far an "at 09:00 on the day" slot may lie from the event's start.
DAY_SLACK = timedelta(hours=26)
# Event occurrences looked at when searching one reminder slot (hourly events, month-long offsets).
MAX_EVENT_SCAN = 5_000
# An event reminder due at (or just before) the event's start still goes out this late.
EVENT_LATE_SLACK = timedelta(minutes=10)


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


def recurring_series(reminder, *, tz: ZoneInfo) -> tuple[datetime, Series] | None:
    """A recurring reminder's wall-clock anchor and recurrence set (None when it has none).

    The anchor is ``at`` as written (``run_at_local``) while it still maps to ``run_at``: a first
    occurrence in a spring-forward gap fires when the clocks jump, and the series stays at the
    wall time it was written with (weekly at 02:30 remains 02:30, not 03:00).
    """
    if reminder.run_at is None:
        return None
    anchor = wall_anchor(reminder.run_at, tz=tz, wall=reminder.wall_run_at).replace(microsecond=0)
    try:
        series = parse_series(
            reminder.rrule,
            dtstart=anchor,
            tz=tz,
            rdates=rrules.parse_wall_times(reminder.rdates),
            exdates=rrules.parse_wall_times(reminder.exdates),
        )
    except (ValueError, TypeError, OverflowError):
        return None
    return anchor, series


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
        recurrence = recurring_series(reminder, tz=tz)
        if recurrence is None or reminder.run_at is None:
            return None
        anchor, series = recurrence
        if reminder.run_at > after and anchor not in series.exdates:
            return Slot(at=reminder.run_at, local=anchor)
        return next_rrule(rule=series, tz=tz, after=after)
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
