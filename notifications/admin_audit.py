"""The audit log's "Replay" action: the notification an entry is about, sent again.

Registered on the audit app's admin from here: the audit trail sits below the notifications.
"""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib import admin, messages

from audit.admin import audit_admin_action
from audit.names import ADMIN_ORIGIN
from birthdaybuddy.admin_tools import confirm_action, report
from birthdaybuddy.errors import ApplicationError
from notifications import replay, services

REPLAY_PERMISSION = "notifications.change_notification"


def _entry_label(entry: LogEntry) -> str:
    return f"Entry {entry.pk} ({entry.object_repr})"


def _what_replay_does(entry: LogEntry) -> str:
    try:
        notification = replay.replayable_notification(entry=entry)
    except ApplicationError as exc:
        return f"left alone: {exc.message}"
    if notification.status not in services.RESENDABLE:
        return f"left alone: its notification is {notification.status}"
    return "its notification is sent again as a new one"


@audit_admin_action
@admin.action(description="Replay the notification (failed or unknown only)")
def replay_notifications(model_admin, request, queryset):
    if not request.user.has_perm(REPLAY_PERMISSION):
        model_admin.message_user(request, "You may not resend notifications.", messages.ERROR)
        return None
    entries = queryset.select_related("content_type")
    page = confirm_action(
        model_admin,
        request,
        entries,
        action="replay_notifications",
        title="Replay notifications",
        explanation="For each entry about a failed or unknown notification, the notification is sent again "
        "as a new notification (recorded as a resend); other entries are left alone.",
        describe=_what_replay_does,
    )
    if page is not None:
        return page
    lines = []
    for entry in entries:
        try:
            copy = replay.audit_entry_replay(entry=entry, workspace=None, actor=request.user, origin=ADMIN_ORIGIN)
        except ApplicationError as exc:
            lines.append((messages.WARNING, f"{_entry_label(entry)}: not replayed. {exc.message}"))
            continue
        lines.append((messages.SUCCESS, f"{_entry_label(entry)}: sent again as {str(copy.pk)[:8]}, queued now."))
    report(model_admin, request, lines)
    return None
