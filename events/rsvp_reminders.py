"""The automatic reminder to guests who have not answered, some hours before the RSVP deadline.

A gathering with ``rsvp_deadline`` and ``rsvp_reminder_hours`` has one one-time reminder
(audience ``unanswered_guests``, linked to the event) due ``rsvp_reminder_hours`` before the
deadline. It goes through the reminders' pipeline like any other: the tick, quiet hours, each
guest's channel and opt-outs, one notification per guest (idempotency keys) and the history.
Who it goes to is worked out when it fires (``scheduling.planning``): the guests whose answer
is still pending then, so a guest who answers in the meantime gets nothing.

The event services keep the reminder in step (:func:`rsvp_reminder_sync`): a new deadline or
number of hours moves it, clearing either (or cancelling the event) pauses it, and a time that
has already passed when it is set is not sent. It is edited through the event, not through the
reminders API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext

from birthdaybuddy.timerules.recurrence import utc_to_local
from events.models import Event, EventKind, EventStatus
from reminders import schedule
from reminders.models import Audience, MessageType, Reminder, ReminderKind

# The event settings that move (or stop) the reminder.
SYNC_FIELDS = frozenset({"rsvp_deadline", "rsvp_reminder_hours", "kind", "title"})


def rsvp_reminder_at(event: Event) -> datetime | None:
    """When the reminder is due, or None when the event has none."""
    if (
        event.kind != EventKind.GATHERING
        or event.status == EventStatus.CANCELLED
        or event.rsvp_deadline is None
        or not event.rsvp_reminder_hours
    ):
        return None
    return event.rsvp_deadline - timedelta(hours=event.rsvp_reminder_hours)


def _message(event: Event, deadline_utc: datetime) -> str:
    workspace = event.workspace
    deadline = utc_to_local(deadline_utc, ZoneInfo(workspace.timezone))
    with translation.override(workspace.locale or None):
        text = gettext("You have not answered the invitation to “%(title)s” yet. Answers are taken until %(when)s.")
    # The text is itself a template over the reminder's data: braces in a title stay literal.
    title = event.title.replace("{", "(").replace("}", ")")
    return text % {"title": title, "when": f"{deadline:%Y-%m-%d %H:%M}"}


def rsvp_reminder_sync(*, event: Event, now: datetime | None = None) -> Reminder | None:
    """Creates, moves or pauses the event's reminder to guests who have not answered (in the caller's transaction)."""
    now = now or dj_timezone.now()
    reminder = (
        Reminder.objects.select_for_update(of=("self",))
        .filter(event=event, audience=Audience.UNANSWERED_GUESTS)
        .order_by("created_at")
        .first()
    )
    at = rsvp_reminder_at(event)
    wanted = at is not None and at > now - schedule.RESCHEDULE_LOOKBACK
    if reminder is None and not wanted:
        return None
    if reminder is None:
        reminder = Reminder(
            workspace=event.workspace,
            kind=ReminderKind.ONE_TIME,
            audience=Audience.UNANSWERED_GUESTS,
            event=event,
            channels=[],
            message_type=MessageType.DEADLINE,
            created_at=now,
        )
    reminder.workspace = event.workspace
    reminder.event = event
    reminder.name = f"Not answered yet: {event.title}"[:200]
    reminder.active = wanted
    if at is not None and wanted and event.rsvp_deadline is not None:
        reminder.run_at = at
        reminder.message = _message(event, event.rsvp_deadline)
    elif reminder.run_at is None:
        reminder.run_at = now
    reminder.save()
    schedule.reminder_reschedule(reminder=reminder, now=now)
    return reminder
