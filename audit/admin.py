"""The staff's audit log: auditlog's entry list, with our action names, a workspace filter and
the actions the apps above register on it (``audit_admin_action``; the notifications' "Replay").

auditlog's own admin shows a recorded failure or a manual send as action "access"; here an entry
reads as what it is: ``create``, ``update``, ``delete``, or its operation (``notification.failed``,
``notification.resend``, ``reminder.send_now``, …).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from audit.names import OPERATIONS, SYSTEM_OPERATIONS, WORKSPACE_KEY
from audit.queries import ACTION_NAMES, AuditEntryQuerySet, audit_entries, entry_action, entry_operation

# The workspace model, by label: the audit trail sits below the apps whose models it records.
WORKSPACE_MODEL = "workspaces.Workspace"
# How many workspaces the filter offers by name (any other is reached with ?workspace=<id>).
WORKSPACE_CHOICES = 200


def entry_action_name(entry: LogEntry) -> str:
    """``create`` / ``update`` / ``delete``, or the operation of a manual or system entry."""
    if entry.action == LogEntry.Action.ACCESS:
        return entry_operation(entry) or entry_action(entry)
    return entry_action(entry)


class ActionNameFilter(admin.SimpleListFilter):
    """What was done, by name: the three changes, each operation, and all manual or all system entries."""

    title = "action"
    parameter_name = "action_name"

    def lookups(self, request, model_admin):
        names = [(name, name) for name in ACTION_NAMES.values() if name != "manual"]
        names += [("manual", "manual (any operation)"), ("system", "system (any)")]
        names += [(operation, operation) for operation in (*SYSTEM_OPERATIONS, *OPERATIONS)]
        return names

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        entries = _as_entries(queryset)
        if value in ("create", "update", "delete", "manual", "system"):
            return entries.with_action(value)
        return entries.with_operation(value).filter(action=LogEntry.Action.ACCESS)


class WorkspaceFilter(admin.SimpleListFilter):
    """One workspace's entries (the trail keeps the workspace as a JSON key, not a foreign key)."""

    title = "workspace"
    parameter_name = "workspace"

    def lookups(self, request, model_admin):
        workspaces = apps.get_model(WORKSPACE_MODEL).objects.order_by("name").values_list("pk", "name")
        choices = [(str(pk), name) for pk, name in workspaces[:WORKSPACE_CHOICES]]
        value = self.value()
        if value and value not in {pk for pk, _ in choices}:
            choices.append((value, value))
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            workspace_id = uuid.UUID(value)
        except ValueError:
            return queryset.none()
        return _as_entries(queryset).for_workspace(workspace_id)


def _as_entries(queryset: QuerySet) -> AuditEntryQuerySet:
    """The changelist's queryset (``AuditEntryAdmin.get_queryset``: the audit vocabulary)."""
    assert isinstance(queryset, AuditEntryQuerySet)  # noqa: S101 (a programming error, not input)
    return queryset


class AuditEntryAdmin(LogEntryAdmin):
    """auditlog's entry admin, read-only as before, in our words."""

    list_display = ["created", "resource_url", "action_name", "msg_short", "user_url", "workspace_link", "cid_url"]
    list_filter = [ActionNameFilter, WorkspaceFilter, *LogEntryAdmin.list_filter[1:]]
    readonly_fields = ["created", "resource_url", "action_name", "workspace_link", "user_url", "msg"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "resource_url", "workspace_link", "cid"]}),
        ("Changes", {"fields": ["action_name", "msg"]}),
    ]
    show_full_result_count = False
    # Added by the apps above (audit_admin_action), e.g. the notifications' "Replay".
    actions: list[Any] = []

    def get_queryset(self, request):
        self.request = request
        return audit_entries().select_related("content_type", "actor")

    @admin.display(description="Action")
    def action_name(self, entry: LogEntry) -> str:
        return entry_action_name(entry)

    @admin.display(description="Workspace")
    def workspace_link(self, entry: LogEntry) -> str:
        data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
        workspace_id = data.get(WORKSPACE_KEY)
        if not workspace_id:
            return "—"
        try:
            url = reverse("admin:workspaces_workspace_change", args=[workspace_id])
        except NoReverseMatch:
            return str(workspace_id)
        changelist = reverse("admin:auditlog_logentry_changelist")
        return format_html(
            '<a href="{}?workspace={}" title="This workspace\'s entries">{}</a> (<a href="{}">open</a>)',
            changelist,
            workspace_id,
            self._workspace_name(str(workspace_id)),
            url,
        )

    def _workspace_name(self, workspace_id: str) -> str:
        """The workspace's name (one query per workspace and request), its id if it is gone."""
        names = self.request.__dict__.setdefault("_audit_workspace_names", {})
        if workspace_id not in names:
            try:
                found = apps.get_model(WORKSPACE_MODEL).objects.filter(pk=workspace_id).values_list("name", flat=True)
                names[workspace_id] = next(iter(found), None) or workspace_id[:8]
            except (ValueError, ValidationError):
                names[workspace_id] = workspace_id[:8]
        return names[workspace_id]


def audit_admin_action(action: Callable[..., Any]) -> Callable[..., Any]:
    """Adds an admin action (a function ``(model_admin, request, queryset)``) to the audit log."""
    if action not in AuditEntryAdmin.actions:
        AuditEntryAdmin.actions.append(action)
    return action


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditEntryAdmin)
