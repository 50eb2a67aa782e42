"""Writing entries beyond auditlog's own: manual operations, recorded failures, bulk writes.

- **Manual operations** (:func:`audit_manual_send`): resends, run-now, send-now, channel
  tests, invitation re-sends and CSV imports are entries with auditlog's ``ACCESS`` action
  and ``additional_data["operation"]`` (e.g. ``notification.resend``) plus ``details``; the
  API shows them as action ``manual``. The service that performs one records it (the
  resend, the digest run, the send-now, the channel test take ``actor`` and ``origin``), so
  every way in is audited alike: the API, the admin's actions (actor: the staff user,
  ``details["origin"]`` ``admin``) and the management commands (no user, so
  ``details["origin"]`` names the command, e.g. ``manage.py run_birthday_job``: auditlog's
  ``remote_addr`` is an IP address column and cannot hold a label).
- **Failures** (:func:`audit_notification_failed`, action ``system``): a notification that
  ends failed or unknown is recorded by the delivery code, so admins find it in the audit
  view and replay it from there (``notifications.replay``).
- **Bulk writes** (:func:`audit_bulk_changes`): rows written with ``bulk_create`` get the
  entries a ``save()`` would have written, inserted with COPY on PostgreSQL.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC
from typing import Any

from auditlog.diff import get_mask_function
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models
from django.utils import timezone as dj_timezone
from django.utils.encoding import smart_str

from audit.context import request_context
from audit.names import DETAILS_KEY, NOTIFICATION_FAILED, OPERATION_KEY, ORIGIN_KEY, WORKSPACE_KEY

# --- writing entries ------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON (UUIDs, dates, decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_manual_send(
    *,
    workspace: models.Model,
    actor,
    action: str,
    target: models.Model | None = None,
    details: Mapping[str, Any] | None = None,
    origin: str | None = None,
) -> LogEntry:
    """Records a manual operation: a resend, a run-now, a send-now, a channel test, an import.

    ``action`` names the operation (see :data:`OPERATIONS`, e.g. ``"notification.resend"``);
    ``target`` is what it acted on (default: the workspace); ``details`` a small JSON-able
    mapping (ids created, counts, the recipient of a test). Call it after the operation
    succeeded, inside its transaction if it has one, so a failed operation leaves no entry.
    ``actor`` may be ``None`` (a task or a command). ``origin`` says where the operation
    started when that is not the API: :data:`ADMIN_ORIGIN`, or :func:`command_origin` for a
    command (then the only name of who acted); it is kept as ``details["origin"]``.
    """
    if not action or not isinstance(action, str):
        raise ValueError("audit_manual_send needs an action name such as 'notification.resend'")
    if origin:
        details = {**(details or {}), ORIGIN_KEY: origin}
    return _record_operation(
        workspace_id=workspace.pk,
        actor=actor,
        operation=action,
        target=workspace if target is None else target,
        details=details,
    )


def audit_notification_failed(*, notification: Any, status: str, reason: str = "") -> LogEntry:
    """Records that a notification ended ``failed`` or ``unknown``, so workspace admins find it in
    the audit view and can replay it from there. For the delivery code; the actor is the system."""
    return _record_operation(
        workspace_id=notification.workspace_id,
        actor=None,
        operation=NOTIFICATION_FAILED,
        target=notification,
        details={"status": status, "channel": notification.channel, "error": (reason or "")[:500]},
    )


def _record_operation(*, workspace_id, actor, operation: str, target: models.Model, details) -> LogEntry:
    context = request_context()
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    details = _json_safe(dict(details or {}))
    pk = target.pk
    entry = LogEntry(
        content_type=ContentType.objects.get_for_model(target),
        object_pk=str(pk),
        object_id=pk if isinstance(pk, int) else None,
        object_repr=str(target)[:1000],
        action=LogEntry.Action.ACCESS,
        # Shown by the admin's change table; the API reads operation and details from additional_data.
        changes={OPERATION_KEY: [None, operation], **{key: [None, value] for key, value in details.items()}},
        actor=actor,
        actor_email=getattr(actor, "email", None) if actor is not None else None,
        remote_addr=context["remote_addr"],
        cid=context["cid"],
        additional_data={WORKSPACE_KEY: str(workspace_id), OPERATION_KEY: operation, DETAILS_KEY: details},
    )
    entry.save(force_insert=True)
    return entry


def _diff_value(field: models.Field, value: Any) -> Any:
    """A value as auditlog stores it in JSON changes (see ``auditlog.diff.get_field_value``)."""
    if value is None:
        return None
    if isinstance(field, models.DateTimeField) and dj_timezone.is_aware(value):
        value = dj_timezone.make_naive(value, timezone=UTC)
    if isinstance(value, (bool, int, float, str, list, tuple, dict, set)):
        return value
    return smart_str(value)


@functools.cache
def _bulk_diff_fields(model: type[models.Model]) -> tuple[tuple[models.Field, ...], frozenset[str], Any]:
    options = auditlog.get_model_fields(model)
    include, exclude = set(options["include_fields"]), set(options["exclude_fields"])
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if (not include or field.name in include) and field.name not in exclude
    )
    return fields, frozenset(options["mask_fields"]), get_mask_function(options["mask_callable"])


def bulk_diff(before: models.Model | None, after: models.Model) -> dict[str, list]:
    """What auditlog's ``model_instance_diff`` would record, for one model's tracked columns, fast.

    Bulk writes need the same entries as single saves without paying for the generic diff
    (it inspects every field, reverse relations included, of every object).
    """
    fields, masked, mask = _bulk_diff_fields(type(after))
    changes: dict[str, list] = {}
    for field in fields:
        new = getattr(after, field.attname)
        old = getattr(before, field.attname) if before is not None else None
        unchanged = new is None if before is None else old == new
        if unchanged:
            continue
        if field.name in masked:
            changes[field.name] = [mask(smart_str(old)), mask(smart_str(new))]
        else:
            changes[field.name] = [_diff_value(field, old), _diff_value(field, new)]
    return changes


def audit_bulk_changes(
    *,
    workspace: models.Model,
    actor,
    created: Iterable[models.Model] = (),
    updated: Iterable[tuple[models.Model, models.Model]] = (),
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Entries for rows written with ``bulk_create``/``bulk_update`` (which send no signals).

    ``created``: the new objects; ``updated``: ``(before, after)`` pairs, of models
    registered with auditlog. The changes read exactly like those of a ``save()``
    (:func:`bulk_diff`). Returns how many entries were written.
    """
    context = request_context()
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else context["actor"]
    common = {
        "actor_id": actor.pk if actor is not None else None,
        "actor_email": getattr(actor, "email", None) if actor is not None else None,
        "remote_addr": context["remote_addr"],
        "cid": context["cid"],
        "additional_data": {WORKSPACE_KEY: str(workspace.pk), **(extra or {})},
        "timestamp": dj_timezone.now(),
        "serialized_data": None,
        "changes_text": "",
        "remote_port": None,
    }
    content_types: dict[type, int] = {}
    rows: list[dict[str, Any]] = []

    def add(action, before, after) -> None:
        changes = bulk_diff(before, after)
        if not changes:
            return
        model = type(after)
        if model not in content_types:
            content_types[model] = ContentType.objects.get_for_model(model).pk
        pk = after.pk
        rows.append(
            {
                **common,
                "content_type_id": content_types[model],
                "object_pk": str(pk),
                "object_id": pk if isinstance(pk, int) else None,
                "object_repr": str(after)[:1000],
                "action": action,
                "changes": changes,
            }
        )

    for instance in created:
        add(LogEntry.Action.CREATE, None, instance)
    for before, after in updated:
        add(LogEntry.Action.UPDATE, before, after)
    insert_entries(rows)
    return len(rows)


def insert_entries(rows: list[dict[str, Any]]) -> None:
    """Writes entries (as column values by attname): COPY on PostgreSQL, :func:`insert_entries_orm` elsewhere.

    Tens of thousands of entries with two JSON documents each are most of an import's
    write time through ``bulk_create``; COPY takes a fraction of it (bench/RESULTS.md,
    the CSV import). Held to the ORM meaning by tests/platform/test_fast_paths.py.
    """
    if not rows:
        return
    connection = connections[LogEntry.objects.db]
    if connection.vendor != "postgresql":
        insert_entries_orm(rows)
        return
    fields = [field for field in LogEntry._meta.concrete_fields if not field.primary_key]
    json_fields = {field.attname for field in fields if isinstance(field, models.JSONField)}
    quote = connection.ops.quote_name
    statement = (
        f"COPY {quote(LogEntry._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) FROM STDIN"
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    _json_text(row[field.attname]) if field.attname in json_fields else row[field.attname]
                    for field in fields
                ]
            )


def insert_entries_orm(rows: list[dict[str, Any]]) -> None:
    """What :func:`insert_entries` means, with the ORM: ``bulk_create`` in batches of 1,000."""
    LogEntry.objects.bulk_create([LogEntry(**row) for row in rows], batch_size=1_000)


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)
