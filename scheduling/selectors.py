"""Reads of the schedule: what the workspace's reminders will send in the coming days, what one will send next."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from birthdaybuddy.timerules.recurrence import local_to_utc, utc_to_local
from events.models import EventStatus
from reminders import schedule
from reminders.models import Reminder, ReminderKind
from reminders.slots import recurring_series
from scheduling.planned import PlannedMessage
from scheduling.planning import plan_occurrence, plan_occurrences
from workspaces.models import Workspace

# The upcoming preview lists at most this many occurrences (the earliest), then says it was truncated.
UPCOMING_LIMIT = 500
# Occurrences planned together; planning costs a few queries per call, not per message.
PLAN_CHUNK = 50
# Digest first, then the other kinds, when occurrences fall on the same instant.
KIND_ORDER = {kind: n for n, kind in enumerate(ReminderKind.values)}


@dataclass(slots=True)
class Upcoming:
    """The occurrences of a window in time order; ``truncated`` when more than the limit fell in it."""

    entries: list[dict] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class _Due:
    """One occurrence that will go out: its reminder, the occurrence and when the tick takes it."""

    reminder: Reminder
    slot: Slot
    send_at: datetime


def _window_end(*, workspace: Workspace, now: datetime, days: int) -> datetime:
    """The end of the workspace's local day ``days - 1`` days after today (today counts as the first)."""
    tz = ZoneInfo(workspace.timezone)
    today = utc_to_local(now, tz).date()
    return local_to_utc(datetime.combine(today + timedelta(days=days), time(0)), tz)


def _recurring_slots_after(reminder: Reminder, first: Slot) -> Iterator[Slot]:
    """A recurring reminder's occurrences after ``first``, in one pass over its rule.

    The same occurrences as asking ``reminder_next_slot`` again and again: the rule expanded in
    local wall time from ``run_at``, each mapped to UTC, and a wall time whose instant is not
    later than the previous occurrence's (a DST fold) is no new occurrence. But linear: each
    engine call expands the rule from its start again, which makes a month of an hourly rule
    quadratic.
    """
    tz = ZoneInfo(reminder.workspace.timezone)
    found = recurring_series(reminder, tz=tz)
    if found is None:
        return
    _, series = found
    last = first.at
    for local in series.xafter(utc_to_local(last, tz) - timedelta(days=1), inc=False):
        at = local_to_utc(local, tz)
        if series.until is not None and at > series.until:
            continue
        if at > last:
            yield Slot(at=at, local=local)
            last = at


def _slots(reminder: Reminder, *, now: datetime) -> Iterator[Slot]:
    """The occurrence the reminder waits for, then the ones after it."""
    slot = schedule.reminder_upcoming_slot(reminder=reminder, now=now)
    if slot is None:
        return
    yield slot
    if reminder.kind == ReminderKind.RECURRING and reminder.run_at is not None:
        yield from _recurring_slots_after(reminder, slot)
        return
    while (slot := schedule.reminder_next_slot(reminder=reminder, after=slot.at)) is not None:
        yield slot


def _occurrences(reminder: Reminder, *, now: datetime, until: datetime) -> Iterator[_Due]:
    """The reminder's occurrences from the one it waits for up to ``until`` (exclusive), as the tick will
    take them: an occurrence too late to send is left out (the tick records it as missed), and of several
    held back by the same quiet hours only the latest goes out."""
    slots = _slots(reminder, now=now)
    slot = next(slots, None)
    while slot is not None and slot.at < until:
        nxt = next(slots, None)
        send_at = schedule.reminder_due_at(reminder=reminder, slot=slot)
        merged = (
            send_at != slot.at and nxt is not None and schedule.reminder_due_at(reminder=reminder, slot=nxt) == send_at
        )
        if not merged and not (send_at <= now and schedule.is_missed(reminder=reminder, slot=slot, now=now)):
            yield _Due(reminder=reminder, slot=slot, send_at=send_at)
        slot = nxt


def _entry(due: _Due, planned: list[PlannedMessage]) -> dict:
    reminder, slot = due.reminder, due.slot
    tz = schedule.reminder_time_zone(reminder)
    return {
        "date": slot.local_date,
        "at": slot.at,
        "local": f"{slot.local:%Y-%m-%dT%H:%M}",
        "send_at": due.send_at,
        "send_at_local": f"{utc_to_local(due.send_at, tz):%Y-%m-%dT%H:%M}",
        "deferred": due.send_at != slot.at,
        "reminder": reminder.pk,
        "kind": reminder.kind,
        "name": reminder.name,
        "messages": [message.as_dict() for message in planned],
    }


def _plan(chunk: list[_Due]) -> list[list[PlannedMessage]]:
    """What each occurrence would send (a dry run: planning reads only), planned as one batch."""
    return plan_occurrences(items=[(due.reminder, due.slot) for due in chunk])


def upcoming_messages(
    *,
    workspace: Workspace,
    days: int,
    now: datetime | None = None,
    kind: str | None = None,
    reminder_id=None,
    limit: int = UPCOMING_LIMIT,
) -> Upcoming:
    """Every occurrence of the workspace's active reminders in the next ``days`` local days, in time order.

    Each entry: the occurrence (UTC instant, local date and time), when it goes out (after quiet
    hours), the reminder, and the messages it would send — recipient, channel, text, or why a
    recipient is skipped. A digest day with nobody to celebrate sends nothing and is not listed.
    Paused reminders and reminders of cancelled events are left out. Expansion is windowed (an
    unbounded RRULE stops at the window's end) and stops after ``limit`` entries.
    """
    now = now or timezone.now()
    until = _window_end(workspace=workspace, now=now, days=days)
    queryset = (
        Reminder.objects.filter(workspace=workspace, active=True)
        .exclude(Q(kind=ReminderKind.EVENT) & (Q(event__isnull=True) | Q(event__status=EventStatus.CANCELLED)))
        .select_related("event")
        .order_by("pk")
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if reminder_id:
        queryset = queryset.filter(pk=reminder_id)
    reminders = list(queryset)
    for reminder in reminders:
        reminder.workspace = workspace  # the zone, notify_at and quiet hours every reminder reads
    stream = heapq.merge(
        *(_occurrences(reminder, now=now, until=until) for reminder in reminders),
        key=lambda due: (due.slot.at, KIND_ORDER.get(due.reminder.kind, 99), due.reminder.name, str(due.reminder.pk)),
    )
    result = Upcoming()
    chunk: list[_Due] = []
    exhausted = False
    while not exhausted:
        chunk.clear()
        # Up to one entry past the limit: enough to tell whether the window holds more.
        size = min(PLAN_CHUNK, limit + 1 - len(result.entries))
        for due in stream:
            chunk.append(due)
            if len(chunk) >= size:
                break
        else:
            exhausted = True
        for due, planned in zip(chunk, _plan(chunk), strict=True):
            if not planned and due.reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
                continue  # nobody celebrates that day
            if len(result.entries) >= limit:
                result.truncated = True
                return result
            result.entries.append(_entry(due, planned))
    return result


def reminder_preview(*, reminder: Reminder, count: int, now: datetime | None = None) -> list[dict]:
    """The reminder's next ``count`` occurrences with what each would send (a dry run: nothing is written).

    Starts at the occurrence the reminder is waiting for (or, paused, its next one after now).
    """
    now = now or timezone.now()
    slot = schedule.reminder_upcoming_slot(reminder=reminder, now=now)
    entries: list[dict] = []
    while slot is not None and len(entries) < count:
        send_at = schedule.reminder_due_at(reminder=reminder, slot=slot)
        entries.append(
            {
                "at": slot.at,
                "local": f"{slot.local:%Y-%m-%dT%H:%M}",
                "send_at": send_at,
                "deferred": send_at != slot.at,
                "messages": [message.as_dict() for message in plan_occurrence(reminder=reminder, slot=slot)],
            }
        )
        slot = schedule.reminder_next_slot(reminder=reminder, after=slot.at)
    return entries


def digest_empty_reason(*, workspace: Workspace, day: date) -> str:
    """Why the digest of ``day`` has no message: nobody celebrates, or no channel reaches anyone."""
    from scheduling.digest import celebrations_on

    if celebrations_on(workspace=workspace, day=day):
        return (
            f"People celebrate on {day.isoformat()}, but no channel is configured to announce it: "
            "add a Slack channel to the workspace, or have members receive the digest by email."
        )
    return f"Nobody celebrates on {day.isoformat()}: nothing to send."
