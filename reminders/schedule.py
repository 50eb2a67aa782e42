"""When a reminder fires, and keeping ``next_run_at`` right: this app owns its schedule.

``slots.py`` says when each kind fires (pure: its occurrences, quiet-hours deferral,
lateness). This module applies it to the rows: :func:`reminder_reschedule` computes
``next_occurrence_at`` (the occurrence) and ``next_run_at`` (when the tick takes it, after
quiet hours) and saves them. The reminder services call it on every change of a reminder,
the event services for their event's reminders (:func:`event_reminders_reschedule`), and a
workspace's zone, ``notify_at`` or quiet hours moving calls
:func:`workspace_reminders_reschedule`. The tick (``scheduling``) reads the same functions to
settle what is due and advance the schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from birthdaybuddy.timerules.recurrence import daily_occurrence_on, local_to_utc, utc_to_local, wall_anchor
from reminders import signals, slots
from reminders.models import Reminder, ReminderKind
from workspaces.models import Workspace

# Rescheduling looks back this far, so an occurrence due since the last tick still gets its turn.
RESCHEDULE_LOOKBACK = timedelta(minutes=2)


def reminder_time_zone(reminder: Reminder) -> ZoneInfo:
    return slots.time_zone(reminder)


def reminder_local_time(reminder: Reminder):
    return slots.local_time(reminder)


def reminder_next_slot(*, reminder: Reminder, after: datetime) -> Slot | None:
    """The reminder's first occurrence strictly after ``after`` (None when it has none)."""
    return slots.next_slot(reminder, after=after)


def reminder_slot_at(*, reminder: Reminder, instant: datetime) -> Slot | None:
    """The occurrence a due instant stands for.

    The digest: the occurrence of ``instant``'s local date. Other kinds: the first occurrence
    at or after ``instant`` (the same one unless the rule changed since it was scheduled).
    """
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        tz = reminder_time_zone(reminder)
        day = utc_to_local(instant, tz).date()
        return daily_occurrence_on(day=day, at=reminder_local_time(reminder), tz=tz)
    return slots.next_slot(reminder, after=instant - slots.TINY)


def reminder_due_at(*, reminder: Reminder, slot: Slot) -> datetime:
    """When the tick takes ``slot``: at once, or at the end of the workspace's quiet hours."""
    return slots.due_at(reminder, slot)


def is_missed(*, reminder: Reminder, slot: Slot, now: datetime) -> bool:
    """Older than the grace period, (for a daily digest) its local day has ended, or (for an
    event reminder) its event is over."""
    return slots.is_missed(reminder, slot, now=now, grace=settings.SCHEDULING_GRACE)


def pending_instant(reminder: Reminder) -> datetime | None:
    """The occurrence ``next_run_at`` stands for: ``next_occurrence_at`` while quiet hours hold it back."""
    run, occurrence = reminder.next_run_at, reminder.next_occurrence_at
    if run is None or occurrence is None or occurrence >= run or reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        return run
    slot = reminder_slot_at(reminder=reminder, instant=occurrence)
    return occurrence if slot is not None and slot.at == occurrence else run


def set_schedule(reminder: Reminder, slot: Slot | None) -> None:
    """Sets ``next_occurrence_at`` (the occurrence) and ``next_run_at`` (when the tick takes it) in memory."""
    reminder.next_occurrence_at = slot.at if slot else None
    reminder.next_run_at = reminder_due_at(reminder=reminder, slot=slot) if slot else None


def reminder_reschedule(*, reminder: Reminder, now: datetime | None = None, resumed: bool = False) -> None:
    """Recomputes ``next_run_at`` after a change of the reminder, its event or its workspace.

    A paused reminder, or one whose event is cancelled, gets none. The digest counts from its
    last run (or creation), so a digest due but not yet taken by the tick is not pushed to
    tomorrow. Other kinds count from a moment ago (``RESCHEDULE_LOOKBACK``), or from the
    occurrence quiet hours are holding back: an occurrence the tick has not taken yet keeps
    its turn, and one that was already sent is not sent again because its keys exist.
    ``resumed``: the reminder was just un-paused; what fell due while paused is not caught up.
    """
    now = now or timezone.now()
    if not reminder.active or not slots.schedulable(reminder):
        slot = None
    elif reminder.kind == ReminderKind.BIRTHDAY_DIGEST and not resumed:
        slot = reminder_next_slot(reminder=reminder, after=reminder.last_run_at or min(reminder.created_at, now))
        slot = _digest_once_a_day(reminder, slot)
    else:
        after = now - RESCHEDULE_LOOKBACK
        pending = None if resumed else pending_instant(reminder)
        if pending is not None and reminder.kind != ReminderKind.BIRTHDAY_DIGEST:
            after = min(after, pending - slots.TINY)
        slot = reminder_next_slot(reminder=reminder, after=after)
    set_schedule(reminder, slot)
    reminder.save(update_fields=["next_run_at", "next_occurrence_at", "updated_at"])
    if reminder.next_run_at is not None and reminder.next_run_at <= now:
        # Due already (a one-time "now", a rule whose first occurrence has come): announced after
        # commit, so the engine can tick at once instead of at the next minute (a second tick is
        # harmless, and without it the next minute's tick takes the reminder all the same).
        transaction.on_commit(_announce_due, robust=True)


def _announce_due() -> None:
    signals.reminders_due.send(sender=Reminder)


def _digest_once_a_day(reminder: Reminder, slot: Slot | None) -> Slot | None:
    """One digest per local day: when today's digest has run (the pending occurrence is on a later
    day than ``slot`` and the digest ran on ``slot``'s day), a later ``notify_at`` does not bring
    today back — its occurrence key carries the time, so it would be a second digest."""
    pending, last_run = reminder.next_occurrence_at, reminder.last_run_at
    if slot is None or pending is None or last_run is None:
        return slot
    tz = slots.time_zone(reminder)
    pending_day = utc_to_local(pending, tz).date()
    if slot.local_date >= pending_day or utc_to_local(last_run, tz).date() < slot.local_date:
        return slot
    return daily_occurrence_on(day=pending_day, at=slots.local_time(reminder), tz=tz)


def event_reminders_reschedule(*, event, now: datetime | None = None) -> int:
    """Moves (or, for a cancelled event, unschedules) every reminder of ``event``; returns how many."""
    count = 0
    with transaction.atomic():
        # Waits for a tick working on one of them, then reads fresh.
        reminders = (
            Reminder.objects.select_for_update(no_key=True, of=("self",))
            .select_related("workspace")
            .filter(event=event)
            .order_by("pk")
        )
        for reminder in reminders:
            reminder.event = event
            reminder_reschedule(reminder=reminder, now=now)
            count += 1
    return count


SCHEDULE_SETTINGS = ("timezone", "notify_at", "quiet_hours_start", "quiet_hours_end")


def workspace_reminders_reschedule(*, workspace: Workspace, before: dict | None, now: datetime | None = None) -> None:
    """Keeps a workspace's reminders in step with its settings (``before``: the settings as they were).

    The digest is recomputed on every save. Other reminders only when the zone, ``notify_at``
    or quiet hours changed; a recurring reminder keeps its local wall time in a new zone.
    """
    with transaction.atomic():
        # Locks out a tick processing the same reminder; it commits first, then we read fresh.
        for reminder in Reminder.objects.select_for_update().filter(
            workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST, active=True
        ):
            reminder.workspace = workspace
            reminder_reschedule(reminder=reminder, now=now)
        if before is None or all(before.get(name) == getattr(workspace, name) for name in SCHEDULE_SETTINGS):
            return
        # The zone it had, if it changed: a recurring reminder keeps its local wall time.
        old = before.get("timezone")
        old_zone = ZoneInfo(old) if old and old != workspace.timezone else None
        reminders = (
            Reminder.objects.select_for_update(of=("self",))
            .select_related("event")
            .filter(workspace=workspace, active=True)
            .exclude(kind=ReminderKind.BIRTHDAY_DIGEST)
            .order_by("pk")
        )
        for reminder in reminders:
            reminder.workspace = workspace
            if reminder.kind == ReminderKind.RECURRING and reminder.run_at is not None and old_zone is not None:
                wall = wall_anchor(reminder.run_at, tz=old_zone, wall=reminder.wall_run_at)
                reminder.run_at = local_to_utc(wall, ZoneInfo(workspace.timezone))
                reminder.run_at_local = wall.isoformat()
                reminder.save(update_fields=["run_at", "run_at_local", "updated_at"])
            reminder_reschedule(reminder=reminder, now=now)


def reminder_upcoming_slot(*, reminder: Reminder, now: datetime) -> Slot | None:
    """The occurrence the reminder waits for (held back by quiet hours, or not yet taken by the tick),
    else — paused, or never scheduled — its next one from now."""
    if not slots.schedulable(reminder):
        return None
    instant = pending_instant(reminder) if reminder.active else None
    if instant is not None:
        slot = reminder_slot_at(reminder=reminder, instant=instant)
        if slot is not None:
            return slot
    return reminder_next_slot(reminder=reminder, after=now - RESCHEDULE_LOOKBACK)
