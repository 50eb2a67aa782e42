"""Every write to a gathering's checklist: tasks and things to bring, and their reminders.

A task with an assignee and a due date that is not done has a one-time reminder in the
reminders pipeline (the day before the due date, at the workspace's ``notify_at``; on the due
day itself if that moment has passed), written, moved or paused **in the task's own
transaction** through ``reminders.services`` — as the event services do for their reminders.
The pipeline then applies quiet hours, the assignee's channels and opt-outs, and sends it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as dj_timezone

from audit.entries import audit_manual_send
from birthdaybuddy.errors import ApplicationError, Conflict
from birthdaybuddy.timerules.recurrence import local_to_utc
from events.models import Event
from gatherings.models import Task, TaskKind
from gatherings.selectors import event_participants
from gatherings.services import participant_id, require_gathering
from reminders import services as reminder_services
from reminders.models import Audience, ReminderKind

MAX_TITLE = 200
# Due dates further out than this are refused (a typo such as 2206 for 2026).
MAX_DAYS_AHEAD = 3 * 366


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def _plain(text: str) -> str:
    """User text inside a reminder's message, which is a template: braces would be template syntax."""
    return text.replace("{", "(").replace("}", ")")


def task_reminder_at(*, task: Task, now: datetime) -> datetime | None:
    """When the assignee is reminded: the day before the due date at ``notify_at`` (local), or the
    due day at ``notify_at`` if that has passed; ``None`` if both have, or nothing is to remind."""
    if task.done or task.assignee_id is None or task.due_on is None:
        return None
    workspace = task.event.workspace
    tz = ZoneInfo(workspace.timezone)
    for day in (task.due_on - timedelta(days=1), task.due_on):
        local = datetime.combine(day, workspace.notify_at)
        if local_to_utc(local, tz) > now + timedelta(minutes=1):
            return local
    return None


def _sync_reminder(task: Task, *, now: datetime) -> None:
    """Creates, moves or pauses the task's reminder so it matches the task (same transaction)."""
    at = task_reminder_at(task=task, now=now)
    if at is None:
        if task.reminder is not None and task.reminder.active:
            reminder_services.reminder_update(reminder=task.reminder, data={"active": False}, now=now)
        return
    when = task.due_on.isoformat() if task.due_on else ""
    data = {
        "name": _plain(f"Task: {task.title}")[:200],
        "audience": Audience.PEOPLE,
        "recipients": [task.assignee_id],
        "channels": [],
        "message": _plain(
            f"Reminder: \u201c{task.title}\u201d for {task.event.title} is due on {when}."
            if task.kind == TaskKind.TASK
            else f"Reminder: you are bringing \u201c{task.title}\u201d to {task.event.title} ({when})."
        ),
        "run_at": at,
        "active": True,
    }
    if task.reminder is None:
        task.reminder = reminder_services.reminder_create(
            workspace=task.event.workspace, data={"kind": ReminderKind.ONE_TIME, **data}, created_by=None, now=now
        )
        task.save(update_fields=["reminder"])
    else:
        reminder_services.reminder_update(reminder=task.reminder, data=data, now=now)


def _clean(*, event: Event, data: Mapping[str, Any], current: Task | None, today: date) -> dict[str, Any]:
    errors: dict[str, list[ValidationError]] = {}
    values: dict[str, Any] = {}

    def add(field: str, message: str, code: str) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    if "title" in data or current is None:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            add("title", "Say what is to be done or brought.", "required")
        elif len(title) > MAX_TITLE:
            add("title", f"At most {MAX_TITLE} characters.", "max_length")
        else:
            values["title"] = title.strip()
    if "kind" in data:
        if data["kind"] not in TaskKind.values:
            add("kind", "Choose task or bring.", "invalid_choice")
        else:
            values["kind"] = data["kind"]
    if "assignee" in data:
        if data["assignee"] is None:
            values["assignee_id"] = None
        else:
            allowed = set(event_participants(event=event).values_list("pk", flat=True))
            try:
                values["assignee_id"] = participant_id(data["assignee"], field="assignee", allowed=allowed)
            except ValidationError as exc:
                for key, found in exc.error_dict.items():
                    errors.setdefault(key, []).extend(found)
    if "due_on" in data:
        due = data["due_on"]
        if due is not None and not isinstance(due, date):
            add("due_on", "Enter a date as YYYY-MM-DD.", "invalid")
        elif due is not None and due != (current.due_on if current else None):
            if due < today:
                add("due_on", "This date has passed.", "in_the_past")
            elif due > today + timedelta(days=MAX_DAYS_AHEAD):
                add("due_on", "At most three years ahead.", "out_of_range")
            else:
                values["due_on"] = due
        else:
            values["due_on"] = due
    if "done" in data:
        if not isinstance(data["done"], bool):
            add("done", "true or false.", "invalid")
        else:
            values["done"] = data["done"]
    if errors:
        raise ValidationError(errors)
    return values


def _today(event: Event, now: datetime) -> date:
    return now.astimezone(ZoneInfo(event.workspace.timezone)).date()


def _audit(task: Task, *, actor, action: str, details: Mapping[str, Any]) -> None:
    audit_manual_send(workspace=task.event.workspace, actor=actor, action=action, target=task, details=details)


def _record(task: Task) -> dict[str, Any]:
    return {
        "event": str(task.event_id),
        "title": task.title,
        "kind": task.kind,
        "assignee": str(task.assignee_id) if task.assignee_id else None,
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "done": task.done,
    }


def _apply(task: Task, values: Mapping[str, Any], *, now: datetime) -> None:
    for name, value in values.items():
        setattr(task, name, value)
    if "done" in values:
        task.done_at = (task.done_at or now) if task.done else None


@transaction.atomic
def task_create(*, event: Event, data: Mapping[str, Any], actor=None, guest=None, now: datetime | None = None) -> Task:
    """Adds a checklist item (``actor``: a member; ``guest``: the attendee's person, from their page)."""
    now = now or dj_timezone.now()
    require_gathering(event)
    values = _clean(event=event, data=data, current=None, today=_today(event, now))
    task = Task(
        workspace_id=event.workspace_id,
        event=event,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_by_guest=guest,
    )
    _apply(task, values, now=now)
    task.save()
    _sync_reminder(task, now=now)
    _audit(task, actor=actor, action="task.create", details=_record(task))
    return task


@transaction.atomic
def task_update(*, task: Task, data: Mapping[str, Any], actor=None, now: datetime | None = None) -> Task:
    """Changes a checklist item; its reminder follows (moved, re-addressed or paused)."""
    now = now or dj_timezone.now()
    task = Task.objects.select_for_update(of=("self",)).select_related("event__workspace", "reminder").get(pk=task.pk)
    require_gathering(task.event)
    before = _record(task)
    values = _clean(event=task.event, data=data, current=task, today=_today(task.event, now))
    _apply(task, values, now=now)
    task.save()
    _sync_reminder(task, now=now)
    _audit(task, actor=actor, action="task.update", details={"before": before, "after": _record(task)})
    return task


@transaction.atomic
def task_delete(*, task: Task, actor=None) -> None:
    """Deletes a checklist item and its reminder (sent messages stay in the history)."""
    task = Task.objects.select_for_update(of=("self",)).select_related("event__workspace", "reminder").get(pk=task.pk)
    require_gathering(task.event)
    _audit(task, actor=actor, action="task.delete", details=_record(task))
    if task.reminder is not None:
        reminder_services.reminder_delete(reminder=task.reminder)
    task.delete()


@transaction.atomic
def task_sign_up(*, task: Task, guest, now: datetime | None = None) -> Task:
    """A guest takes an open item ("I'll bring it"); 409 ``already_taken`` if someone has."""
    now = now or dj_timezone.now()
    task = Task.objects.select_for_update(of=("self",)).select_related("event__workspace", "reminder").get(pk=task.pk)
    require_gathering(task.event)
    if task.assignee_id is not None and task.assignee_id != guest.pk:
        raise Conflict("Someone has already signed up for this.", code="already_taken")
    if task.done:
        raise ApplicationError("This is already done.", code="task_done")
    before = _record(task)
    task.assignee_id = guest.pk
    task.save(update_fields=["assignee", "updated_at"])
    _sync_reminder(task, now=now)
    _audit(task, actor=None, action="task.sign_up", details={"before": before, "after": _record(task)})
    return task
