"""The engine's actions on a reminder in the admin: "Send an extra copy now" and "Run today's
birthday digest now". Added to ``reminders.admin.ReminderAdmin`` from here: reminders sit below
the engine, which runs them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from audit.names import ADMIN_ORIGIN
from birthdaybuddy.admin_tools import confirm_action, error_text, local_time, report
from birthdaybuddy.errors import ApplicationError
from reminders import schedule
from reminders.admin import ReminderAdmin
from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.selectors import digest_empty_reason


@admin.action(description="Send an extra copy now (the schedule is unchanged)")
def send_now(model_admin, request, queryset: QuerySet[Reminder]):
    page = confirm_action(
        model_admin,
        request,
        queryset.select_related("workspace"),
        action="send_now",
        title="Send an extra copy now",
        explanation=(
            "Each reminder below sends an extra, manual copy of its upcoming occurrence now. Its schedule does "
            "not change: that occurrence still goes out at its time. A birthday digest instead runs today's "
            "digest, which the scheduled run then does not send again."
        ),
        describe=_send_now_plan,
    )
    if page is not None:
        return page
    lines = []
    for reminder in queryset.select_related("workspace", "event"):
        try:
            run = services.reminder_send_now(reminder=reminder, actor=request.user, origin=ADMIN_ORIGIN)
        except (ApplicationError, ValidationError) as exc:
            lines.append(
                (messages.WARNING, f"{reminder.name} ({reminder.workspace.name}): not sent. {error_text(exc)}")
            )
            continue
        lines.append(
            (messages.SUCCESS, f"{reminder.name} ({reminder.workspace.name}): {services.send_now_detail(run)}")
        )
    report(model_admin, request, lines)
    return None


@admin.action(description="Run today's birthday digest now")
def run_digest_now(model_admin, request, queryset: QuerySet[Reminder]):
    page = confirm_action(
        model_admin,
        request,
        queryset.select_related("workspace"),
        action="run_digest_now",
        title="Run today's digest now",
        explanation=(
            "Today's digest of each workspace below is written now: messages that already exist (delivered, "
            "failed or pending) are not written again; failed ones are resent from the notifications."
        ),
        describe=_digest_plan,
    )
    if page is not None:
        return page
    lines = []
    for reminder in queryset.select_related("workspace"):
        if reminder.kind != ReminderKind.BIRTHDAY_DIGEST:
            lines.append((messages.WARNING, f"{reminder.name}: not a birthday digest; use “Send an extra copy now”."))
            continue
        run = services.digest_run_now(workspace=reminder.workspace, actor=request.user, origin=ADMIN_ORIGIN)
        counts = services.run_counts(run.result)
        if run.result is None or not run.result.planned:
            text = digest_empty_reason(workspace=reminder.workspace, day=run.day)
            lines.append((messages.WARNING, f"{reminder.workspace.name}: {text}"))
            continue
        level = messages.WARNING if counts.already_failed else messages.SUCCESS
        lines.append((level, f"{reminder.workspace.name}, digest of {run.day}: {counts.sentence()}."))
    report(model_admin, request, lines)
    return None


def _digest_plan(reminder: Any) -> str:
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        return f"today's digest of {reminder.workspace.name}"
    return "not a birthday digest: left alone"


def _send_now_plan(reminder: Any) -> str:
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        return f"runs today's digest of {reminder.workspace.name}"
    upcoming = schedule.reminder_upcoming_slot(reminder=reminder, now=timezone.now())
    if upcoming is None:
        return "an extra copy of its last occurrence (no occurrence is scheduled)"
    when = local_time(upcoming.at, reminder.workspace.timezone)
    return f"an extra copy now of the occurrence of {when}, which still goes out at its time"


ReminderAdmin.actions = (send_now, run_digest_now, *ReminderAdmin.actions)
