"""Appointments on one-time reminders: the client's confirmation, updates and cancellation, each with an .ics.

A firm reminds a client of an appointment with a one-time reminder (``at``: when the reminder
goes out, e.g. the day before). The reminder may carry the appointment itself — its start,
length and place (``Reminder.appointment_*``). Its recipients (the audience "people") then get:

- a **confirmation** when the appointment is set (on create, or added later);
- an **update** when it moves, changes length or place, or the reminder is renamed (its title);
- a **cancellation** when the appointment is removed, the reminder deleted, or a person is taken
  off the recipients (to that person only); a person added gets a confirmation.

Each change raises ``appointment_sequence``; emails carry the appointment as an iCalendar file
(``events.ical.appointment_ics``: ``METHOD:REQUEST`` with the reminder's stable ``UID`` and the
new ``SEQUENCE``, or ``METHOD:CANCEL``), so the client's calendar adds, moves or removes the
entry by itself. Messages are written through the outbox in the reminder's own transaction
(like the events' invitations, ``events/messages.py``): the change and its messages commit
together or not at all. Keys: ``appointment:<reminder>:<sequence>:<person>:<channel>`` (a
confirmation), ``appointment:<reminder>:update:<sequence>:<person>:<channel>`` and
``appointment:<reminder>:cancel:<sequence>:<person>:<channel>`` — a retried write sends nothing twice,
and each key chooses its message's variant of the template (``variant_key``), so the text never changes.

Channels: the reminder's own order (else each person's preferences, then email, SMS,
WhatsApp, Slack), as for its reminder message. A person no channel reaches gets a ``skipped``
notification with the reason, never a silent drop.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from birthdaybuddy.i18n import day_text, language_of
from birthdaybuddy.timerules.recurrence import local_to_utc, utc_to_local
from events.ical import appointment_ics
from notifications.models import ChannelConfig, Notification, NotificationStatus
from notifications.person_links import preferences_url, with_preferences_link
from notifications.rendering import render_message
from notifications.routing import route_person
from notifications.services import notifications_enqueue, notifications_write
from reminders.models import Audience, Reminder, ReminderKind
from reminders.rules import EARLIEST, LATEST
from workspaces.models import Channel, Person

logger = logging.getLogger(__name__)

MESSAGE_KIND = "appointment"
DEFAULT_MINUTES = 60
MAX_MINUTES = 24 * 60
# The reminder's fields an appointment message shows: changing one sends an update.
SHOWN_FIELDS = ("appointment_starts_at", "appointment_minutes", "appointment_location", "name")
FIELDS = ("appointment_starts_at", "appointment_minutes", "appointment_location")


# --- the write's values -----------------------------------------------------------------------


def appointment_values(data: dict, tz: ZoneInfo, *, current: Reminder | None = None) -> dict:
    """The API's ``appointment`` (an object or null) as the model's fields; other data unchanged.

    Only the parts given change (PATCH semantics against ``current``); a new appointment needs
    ``starts_at`` and is 60 minutes long unless told otherwise. A start without an offset is a
    wall-clock time in the workspace's zone (in a spring-forward gap: the moment the clocks jump).
    """
    if "appointment" not in data:
        return data
    data = dict(data)
    appointment = data.pop("appointment")
    if appointment is None:
        return {**data, "appointment_starts_at": None, "appointment_minutes": None, "appointment_location": ""}
    has_one = current is not None and current.appointment_starts_at is not None
    if "starts_at" not in appointment and not has_one:
        raise ValidationError({"appointment": [ValidationError("An appointment needs starts_at.", code="required")]})
    values = {}
    if "starts_at" in appointment:
        start = appointment["starts_at"].replace(second=0, microsecond=0)
        if start.tzinfo is None or start.utcoffset() is None:
            try:
                start = local_to_utc(start.replace(tzinfo=None), tz)
            except (OverflowError, ValueError):
                start = LATEST
        values["appointment_starts_at"] = start
    if appointment.get("duration_minutes") is not None:
        values["appointment_minutes"] = appointment["duration_minutes"]
    elif not has_one:
        values["appointment_minutes"] = DEFAULT_MINUTES
    if "location" in appointment or not has_one:
        values["appointment_location"] = (appointment.get("location") or "").strip()
    return {**data, **values}


def appointment_check(*, values: dict, changed: set[str], now: datetime, errors) -> None:
    """The appointment's rules, on the merged values (``errors``: the reminder rules' collector)."""
    start = values.get("appointment_starts_at")
    if start is None:
        return
    if values["kind"] != ReminderKind.ONE_TIME:
        errors.add("appointment", "Only one-time reminders carry an appointment.", "invalid")
        return
    if values.get("audience") != Audience.PEOPLE:
        errors.add(
            "appointment",
            "An appointment is confirmed to the people it is with: choose them as recipients (audience 'people').",
            "invalid",
        )
    minutes = values.get("appointment_minutes")
    if minutes is None or not 1 <= minutes <= MAX_MINUTES:
        errors.add("appointment", f"The length is 1 to {MAX_MINUTES} minutes.", "out_of_range")
    if not EARLIEST <= start < LATEST:
        errors.add("appointment", "Choose a start between the years 2000 and 2199.", "out_of_range")
    elif "appointment_starts_at" in changed and start < now:
        errors.add("appointment", "This appointment's start is in the past.", "in_the_past")
    run_at = values.get("run_at")
    if run_at is not None and run_at > start:
        errors.add(
            "run_at",
            "The reminder would go out after the appointment has started: choose an earlier `at`.",
            "after_appointment",
        )


# --- messages ---------------------------------------------------------------------------------


def appointment_messages_after_create(*, reminder: Reminder, now: datetime) -> list[uuid.UUID]:
    """A new reminder with an appointment: a confirmation to each recipient."""
    if reminder.appointment_starts_at is None:
        return []
    return _write(reminder=reminder, people=list(reminder.recipients.all()), change="confirmed", now=now)


def appointment_messages_after_update(
    *, reminder: Reminder, before: dict, before_people: set, changed: set[str], now: datetime
) -> list[uuid.UUID]:
    """After an update (``before``: the reminder's fields before it): confirmations, updates and
    cancellations as the change asks, under a raised ``SEQUENCE``. Call it in the update's transaction."""
    had = before["appointment_starts_at"] is not None
    has = reminder.appointment_starts_at is not None
    if not had and not has:
        return []
    people = {person.pk: person for person in reminder.recipients.all()}
    removed_ids = before_people - set(people)
    moved = had and has and any(field in changed for field in SHOWN_FIELDS)
    if not (moved or removed_ids or set(people) - before_people or had != has):
        return []
    reminder.appointment_sequence += 1
    reminder.save(update_fields=["appointment_sequence", "updated_at"])
    ids: list[uuid.UUID] = []
    if had and not has:
        # Removed: cancel what the people were sent, as it was.
        old = _snapshot(reminder, before)
        return _write(
            reminder=old, people=list(Person.objects.filter(pk__in=before_people)), change="cancelled", now=now
        )
    if removed_ids and had:
        old = _snapshot(reminder, before)
        ids += _write(reminder=old, people=list(Person.objects.filter(pk__in=removed_ids)), change="cancelled", now=now)
    added = [person for pk, person in people.items() if pk not in before_people or not had]
    kept = [person for pk, person in people.items() if pk in before_people and had]
    ids += _write(reminder=reminder, people=added, change="confirmed", now=now)
    if moved:
        ids += _write(reminder=reminder, people=kept, change="updated", now=now)
    return ids


def appointment_messages_before_delete(*, reminder: Reminder, now: datetime) -> list[uuid.UUID]:
    """The reminder is being deleted: its appointment is cancelled to every recipient."""
    if reminder.appointment_starts_at is None:
        return []
    reminder.appointment_sequence += 1
    reminder.save(update_fields=["appointment_sequence", "updated_at"])
    return _write(reminder=reminder, people=list(reminder.recipients.all()), change="cancelled", now=now)


def _snapshot(reminder: Reminder, before: dict) -> Reminder:
    """The reminder as it was (its appointment and title), with today's sequence: what a cancellation names."""
    old = Reminder(
        pk=reminder.pk,
        workspace=reminder.workspace,
        kind=reminder.kind,
        channels=reminder.channels,
        appointment_sequence=reminder.appointment_sequence,
    )
    for name in (*SHOWN_FIELDS, "channels"):
        if name in before:
            setattr(old, name, before[name])
    return old


def _write(*, reminder: Reminder, people: Iterable[Person], change: str, now: datetime) -> list[uuid.UUID]:
    people = sorted(people, key=lambda person: (person.name, str(person.pk)))
    if not people:
        return []
    workspace = reminder.workspace
    configs = {config.kind: config for config in ChannelConfig.objects.filter(workspace=workspace, active=True)}
    tz = ZoneInfo(workspace.timezone)
    start = reminder.appointment_starts_at
    if start is None:
        return []
    end = start + timedelta(minutes=reminder.appointment_minutes or DEFAULT_MINUTES)
    appointment = {"title": reminder.name, "when": _when(start, end, tz), "location": reminder.appointment_location}
    sequence = reminder.appointment_sequence
    part = {"cancelled": f"cancel:{sequence}", "updated": f"update:{sequence}"}.get(change, str(sequence))
    rows = []
    for person in people:
        route = route_person(person, list(reminder.channels or []), configs)
        key = f"appointment:{reminder.pk}:{part}:{person.pk}:{route.channel}"
        rows.append(
            _notification(
                reminder=reminder,
                person=person,
                channel=route.channel,
                recipient=route.address or "",
                reason=route.reason,
                context={"person": {"name": person.name}, "appointment": appointment, "change": change},
                key=key,
                ics=lambda email: appointment_ics(
                    uid=f"appointment-{reminder.pk}",
                    sequence=sequence,
                    summary=reminder.name,
                    starts_at=start,
                    ends_at=end,
                    location=reminder.appointment_location,
                    organizer_name=workspace.name,
                    method="CANCEL" if change == "cancelled" else "REQUEST",
                    attendee_email=email,
                    now=now,
                ).decode(),
                occurrence_date=utc_to_local(start, tz).date(),
            )
        )
    ids = notifications_write(notifications=rows)
    pending = {row.id for row in rows if row.status == NotificationStatus.PENDING}
    notifications_enqueue(notification_ids=[pk for pk in ids if pk in pending])
    if ids:
        logger.info("reminder %s: %d appointment message(s) (%s) written", reminder.pk, len(ids), change)
    return ids


def _notification(
    *,
    reminder: Reminder,
    person: Person,
    channel: str,
    recipient: str,
    reason: str,
    context: dict,
    key: str,
    ics,
    occurrence_date,
) -> Notification:
    workspace = reminder.workspace
    notification = Notification(
        workspace=workspace,
        reminder_id=reminder.pk,
        person=person,
        channel=channel,
        recipient=recipient or person.email or person.phone or person.slack_user_id or f"person:{person.pk}",
        occurrence_date=occurrence_date,
        idempotency_key=key,
    )
    if not recipient:
        notification.status = NotificationStatus.SKIPPED
        notification.last_error = reason
        notification.body = ""
        return notification
    rendered = render_message(
        workspace=workspace,
        reminder_kind=MESSAGE_KIND,
        channel=channel,
        context=context,
        language=language_of(person=person, workspace=workspace),
        variant_key=key,  # the message's own key: a retried write renders the same variant
    )
    preferences = preferences_url(person)
    notification.subject = rendered.subject
    notification.body = with_preferences_link(
        body=rendered.body, person=person, channel=channel, workspace=workspace, url=preferences
    )
    notification.preferences_url = preferences
    if channel == Channel.EMAIL:
        notification.calendar = ics(recipient)
    if rendered.failure:
        notification.status = NotificationStatus.FAILED
        notification.last_error = rendered.failure
    return notification


def appointment_context(reminder: Reminder) -> dict | None:
    """``{{ appointment }}`` for the reminder's own message: title, when (in the workspace's zone), location."""
    start = reminder.appointment_starts_at
    if start is None:
        return None
    tz = ZoneInfo(reminder.workspace.timezone)
    end = start + timedelta(minutes=reminder.appointment_minutes or DEFAULT_MINUTES)
    return {"title": reminder.name, "when": _when(start, end, tz), "location": reminder.appointment_location}


def _when(start: datetime, end: datetime, tz: ZoneInfo):
    """ "Thursday 10 December 2026, 10:00 to 11:00 (Europe/Berlin)", in the language of the message."""
    local_start, local_end = utc_to_local(start, tz), utc_to_local(end, tz)
    text = format_lazy("{}, {:%H:%M}", day_text(local_start.date(), with_year=True), local_start)
    until: object = f"{local_end:%H:%M}"
    if local_end.date() != local_start.date():
        until = format_lazy("{}, {:%H:%M}", day_text(local_end.date()), local_end)
    return format_lazy("{} ({})", format_lazy(_("{start} to {end}"), start=text, end=until), tz.key)
