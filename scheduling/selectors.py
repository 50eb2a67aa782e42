"""Reads of the schedule: what the digest will send in the coming days, what a reminder will send next."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.planning import plan_occurrence
from scheduling.recurrence import daily_occurrence_on, utc_to_local
from scheduling.services import reminder_local_time, reminder_time_zone
from workspaces.models import Workspace


def upcoming_digests(*, workspace: Workspace, days: int, now: datetime | None = None) -> list[dict]:
    """One entry per local day (today included) with the digest's instant and its messages."""
    now = now or timezone.now()
    reminder = (
        Reminder.objects.select_related("workspace")
        .filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
        .first()
    )
    if reminder is None or not reminder.active:
        return []
    tz = reminder_time_zone(reminder)
    today = utc_to_local(now, tz).date()
    entries = []
    for offset in range(days):
        day = today + timedelta(days=offset)
        slot = daily_occurrence_on(day=day, at=reminder_local_time(reminder), tz=tz)
        if slot.at < now and offset == 0 and (reminder.next_run_at is None or reminder.next_run_at > slot.at):
            continue  # today's run is already behind us
        planned = plan_occurrence(reminder=reminder, slot=slot)
        if planned:
            entries.append(
                {
                    "date": day,
                    "at": slot.at,
                    "reminder": reminder.pk,
                    "kind": reminder.kind,
                    "messages": [message.as_dict() for message in planned],
                }
            )
    return entries


def reminder_preview(*, reminder: Reminder, count: int, now: datetime | None = None) -> list[dict]:
    """The reminder's next ``count`` occurrences with what each would send (a dry run: nothing is written).

    Starts at the occurrence the reminder is waiting for (or, paused, its next one after now).
    """
    now = now or timezone.now()
    slot = services.reminder_upcoming_slot(reminder=reminder, now=now)
    entries: list[dict] = []
    while slot is not None and len(entries) < count:
        send_at = services.reminder_due_at(reminder=reminder, slot=slot)
        entries.append(
            {
                "at": slot.at,
                "local": f"{slot.local:%Y-%m-%dT%H:%M}",
                "send_at": send_at,
                "deferred": send_at != slot.at,
                "messages": [message.as_dict() for message in plan_occurrence(reminder=reminder, slot=slot)],
            }
        )
        slot = services.reminder_next_slot(reminder=reminder, after=slot.at)
    return entries
