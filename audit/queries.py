"""Reading entries: the query vocabulary, and what an entry says in the API's words.

The workspace filter is indexed: :meth:`AuditEntryQuerySet.for_workspace` compares
``additional_data ->> 'workspace_id'`` as text, the expression of the index
``auditlog_entry_ws_ts_idx`` (``workspaces`` migration 0004, PostgreSQL), which also serves
the audit view's newest-first order.
"""

from __future__ import annotations

from datetime import datetime

from auditlog.models import LogEntry
from django.db import connections, models
from django.db.models.fields.json import KT

from audit.names import DETAILS_KEY, OPERATION_KEY, SYSTEM_OPERATIONS, WORKSPACE_KEY

# --- reading entries ------------------------------------------------------------------------


ACTION_NAMES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "manual",
}
ACTIONS = ("create", "update", "delete", "manual", "system")


class AuditEntryQuerySet(models.QuerySet):
    """Query vocabulary over auditlog's entries."""

    def for_workspace(self, workspace):
        # PostgreSQL: ``->>`` (text), the expression of the index ``auditlog_entry_ws_ts_idx``;
        # the plain key lookup would compile to ``->`` (jsonb), which that index cannot serve.
        # SQLite (the embedded default) has no such index, and compares a text key with the
        # plain lookup (KT's comparison there parses the value as JSON).
        workspace_id = str(workspace.pk if isinstance(workspace, models.Model) else workspace)
        if connections[self.db].vendor != "postgresql":
            return self.filter(**{f"additional_data__{WORKSPACE_KEY}": workspace_id})
        return self.alias(_workspace_id=KT(f"additional_data__{WORKSPACE_KEY}")).filter(_workspace_id=workspace_id)

    def older_than(self, cutoff: datetime):
        return self.filter(timestamp__lt=cutoff)

    def of_model(self, label: str):
        app_label, _, model = label.lower().partition(".")
        return self.filter(content_type__app_label=app_label, content_type__model=model)

    def with_action(self, name: str):
        system = models.Q(**{f"additional_data__{OPERATION_KEY}__in": SYSTEM_OPERATIONS})
        if name == "system":
            return self.filter(system, action=LogEntry.Action.ACCESS)
        if name == "manual":
            return self.filter(action=LogEntry.Action.ACCESS).exclude(system)
        return self.filter(action={value: key for key, value in ACTION_NAMES.items()}[name])

    def with_operation(self, operation: str):
        return self.filter(**{f"additional_data__{OPERATION_KEY}": operation})


def audit_entries() -> AuditEntryQuerySet:
    return AuditEntryQuerySet(model=LogEntry)


def entry_action(entry: LogEntry) -> str:
    if entry.action == LogEntry.Action.ACCESS and entry_operation(entry) in SYSTEM_OPERATIONS:
        return "system"
    return ACTION_NAMES.get(entry.action, str(entry.action))


def entry_operation(entry: LogEntry) -> str | None:
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    return data.get(OPERATION_KEY)


def entry_details(entry: LogEntry) -> dict:
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    details = data.get(DETAILS_KEY)
    return details if isinstance(details, dict) else {}


def entry_changes(entry: LogEntry) -> dict:
    """``{field: [old, new]}`` (or auditlog's m2m description); empty for manual operations."""
    if entry.action == LogEntry.Action.ACCESS:
        return {}
    changes = entry.changes
    return changes if isinstance(changes, dict) else {}
