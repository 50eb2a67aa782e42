"""Every write of reminders: create, update, delete — validated first, nothing written on error.

Each write recomputes the reminder's schedule (``next_run_at``, ``reminders/schedule.py``)
inside its transaction. A change that leaves the reminder with no time to fire (a one-time
instant or an event reminder that has passed, a rule that never occurs again) is refused
and rolled back.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from birthdaybuddy.errors import Conflict
from birthdaybuddy.timerules import rrules
from reminders import appointments, schedule
from reminders.models import Audience, Reminder, ReminderKind
from reminders.rules import (
    CREATABLE_KINDS,
    DIGEST_CHANNELS,
    DIGEST_FIELDS,
    SCHEDULE_FIELDS,
    TIMING_FIELDS,
    WRITABLE,
    Errors,
    apply_defaults,
    check,
    check_digest,
    check_schedule,
    resolve_event,
    resolve_recipients,
    with_wall_time,
)
from workspaces.models import Person, Workspace

__all__ = [
    "CREATABLE_KINDS",
    "DIGEST_FIELDS",
    "digest_ensure",
    "reminder_create",
    "reminder_delete",
    "reminder_update",
]


def reminder_create(*, workspace: Workspace, data: dict, created_by=None, now: datetime | None = None) -> Reminder:
    """Creates an event, one-time or recurring reminder (the digest comes with the workspace)."""
    now = now or timezone.now()
    errors = Errors()
    kind = data.get("kind")
    if kind not in CREATABLE_KINDS:
        if kind == ReminderKind.BIRTHDAY_DIGEST:
            errors.add("kind", "A workspace has one birthday digest, created with it: edit that one.", "digest_exists")
        else:
            errors.add("kind", f"Choose one of {', '.join(sorted(CREATABLE_KINDS))}.", "invalid_choice")
        errors.raise_if_any()
    tz = ZoneInfo(workspace.timezone)
    data = appointments.appointment_values(with_wall_time(data, tz), tz)
    values = {name: data[name] for name in WRITABLE if name in data}
    if values.get("rrule"):
        values["rrule"] = rrules.normalize(values["rrule"])
    values["recipient_ids"] = list(data.get("recipients") or [])
    event = resolve_event(workspace, values.get("event_id"), errors)
    recipients = resolve_recipients(workspace, values["recipient_ids"], errors)
    apply_defaults(values, event)
    check(
        workspace=workspace,
        values=values,
        event=event,
        recipients=recipients,
        changed=set(values) | {"recipients"},
        now=now,
        errors=errors,
    )
    appointments.appointment_check(values=values, changed=set(values), now=now, errors=errors)
    errors.raise_if_any()
    values.pop("recipient_ids")
    with transaction.atomic():
        reminder = Reminder(workspace=workspace, created_by=created_by, **values)
        reminder.event = event
        reminder.save()
        reminder.recipients.set(recipients)
        schedule.reminder_reschedule(reminder=reminder, resumed=False, now=now)
        check_schedule(reminder)
        appointments.appointment_messages_after_create(reminder=reminder, now=now)
    return reminder


def reminder_update(*, reminder: Reminder, data: dict, now: datetime | None = None) -> Reminder:
    """Changes a reminder (PATCH semantics: only the fields in ``data``)."""
    now = now or timezone.now()
    errors = Errors()
    with transaction.atomic():
        # Waits for a tick working on this reminder, so the schedule is recomputed on fresh data.
        reminder = (
            Reminder.objects.select_for_update(of=("self",)).select_related("workspace", "event").get(pk=reminder.pk)
        )
        workspace = reminder.workspace
        if "kind" in data and data["kind"] != reminder.kind:
            errors.add("kind", "A reminder's kind cannot change; create a new reminder.", "immutable")
        tz = ZoneInfo(workspace.timezone)
        data = appointments.appointment_values(with_wall_time(data, tz), tz, current=reminder)
        if data.get("rrule"):
            data = {**data, "rrule": rrules.normalize(data["rrule"])}
        if "name" in data and not (data["name"] or "").strip():
            errors.add("name", "A name is required.", "required")
        current = {name: getattr(reminder, name) for name in WRITABLE}
        changed = {name for name in WRITABLE if name in data and data[name] != current[name]}
        current_ids = set(reminder.recipients.values_list("pk", flat=True))
        before = {name: getattr(reminder, name) for name in (*appointments.SHOWN_FIELDS, "channels")}
        if "recipients" in data and set(data["recipients"] or []) != current_ids:
            changed.add("recipients")
        if "audience" in changed and data["audience"] != Audience.PEOPLE and "recipients" not in data and current_ids:
            # Leaving the "people" audience drops the chosen people with it.
            data = {**data, "recipients": []}
            changed.add("recipients")
        if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
            check_digest(data=data, changed=changed, errors=errors)
            errors.raise_if_any()
            recipients: list[Person] = []
            event = None
        else:
            errors.raise_if_any()
            values = {**current, **{name: data[name] for name in WRITABLE if name in data}}
            event = resolve_event(workspace, values["event_id"], errors) if "event_id" in changed else reminder.event
            if "recipients" in changed:
                recipients = resolve_recipients(workspace, data["recipients"] or [], errors)
            else:
                recipients = list(reminder.recipients.all())
            values["recipient_ids"] = [person.pk for person in recipients]
            check(
                workspace=workspace,
                values=values,
                event=event,
                recipients=recipients,
                changed=changed,
                now=now,
                errors=errors,
            )
            appointments.appointment_check(values=values, changed=changed, now=now, errors=errors)
            errors.raise_if_any()
            data = {**data, **{name: values[name] for name in ("exdates", "rdates") if name in data}}
        for name in changed - {"recipients"}:
            setattr(reminder, name, data[name])
        if "event_id" in changed:
            reminder.event = event
        if changed - {"recipients"}:
            reminder.save()
        if "recipients" in changed:
            reminder.recipients.set(recipients)
        if changed & SCHEDULE_FIELDS:
            schedule.reminder_reschedule(reminder=reminder, resumed="active" in changed and reminder.active, now=now)
            if changed & TIMING_FIELDS:
                check_schedule(reminder)
        if reminder.kind == ReminderKind.ONE_TIME:
            appointments.appointment_messages_after_update(
                reminder=reminder, before=before, before_people=current_ids, changed=changed, now=now
            )
    return reminder


def reminder_delete(*, reminder: Reminder, now: datetime | None = None) -> None:
    """Deletes a reminder; its sent notifications stay in the history, unlinked. An appointment it
    carried is cancelled to its recipients (with the deletion, in one transaction)."""
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        raise Conflict(
            "The birthday digest cannot be deleted; pause it with active=false.", code="digest_not_deletable"
        )
    with transaction.atomic():
        locked = Reminder.objects.select_for_update(of=("self",)).select_related("workspace").filter(pk=reminder.pk)
        current = locked.first()
        if current is None:
            return
        appointments.appointment_messages_before_delete(reminder=current, now=now or timezone.now())
        current.delete()


def digest_ensure(*, workspace: Workspace, now: datetime | None = None) -> Reminder:
    """The workspace's digest reminder, created on first need with its next run computed."""
    now = now or timezone.now()
    reminder, created = Reminder.objects.get_or_create(
        workspace=workspace,
        kind=ReminderKind.BIRTHDAY_DIGEST,
        defaults={
            "name": "Birthday and anniversary digest",
            # Every team chat (posted to where the workspace has set one up) and members by email.
            "channels": list(DIGEST_CHANNELS),
        },
    )
    if created or reminder.next_run_at is None:
        reminder.workspace = workspace
        schedule.reminder_reschedule(reminder=reminder, now=now)
    return reminder
