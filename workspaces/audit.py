"""The audit trail: who created, changed or deleted which workspace data, and who sent what by hand.

Built on django-auditlog; entries are its ``LogEntry`` rows (staff browse them in the admin
under "Audit log"). What this module adds, and why:

- **Which models, how** (:data:`AUDITED`): registered from ``WorkspacesConfig.ready`` by
  label, so the apps that own the models need no change. Timestamps and derived
  bookkeeping (``next_run_at``) are left out of the changes; token hashes are left out;
  channel secrets are masked as a whole (:func:`mask_secret`).
- **Workspace scope**: every entry carries ``additional_data["workspace_id"]``, read from the
  object itself (auditlog's ``get_additional_data`` hook, attached at registration), so an
  entry is scoped the same whether the API, the admin, a task or a command made it. It is
  a JSON key, filterable in SQL (:meth:`AuditEntryQuerySet.for_workspace`), and not a
  foreign key: the trail outlives what it describes.
- **The actor**: DRF authenticates (JWT) after Django's middleware has run, so auditlog's
  middleware would record no actor for API calls. :class:`AuditMiddleware` (in its place)
  keeps the request at hand for the request's duration (reset afterwards), and a
  ``pre_save`` receiver on ``LogEntry`` fills in ``request.user`` at the moment an entry is
  written — by then DRF has put the authenticated user on the request. Outside a request
  the actor is empty ("system"). Someone deleting their own account is recorded by email
  only (a reference to the deleted row would fail at commit).
- **Quiet bookkeeping**: a save that only touches excluded fields (the tick advancing
  ``next_run_at``) neither writes an entry nor costs auditlog's extra SELECT; deleting a
  workspace writes one entry for the workspace, not one per cascaded row.
- **Manual operations** (:func:`audit_manual_send`): resends, run-now, send-now, channel
  tests, invitation re-sends and CSV imports are entries with auditlog's ``ACCESS`` action
  and ``additional_data["operation"]`` (e.g. ``notification.resend``) plus ``details``; the
  API shows them as action ``manual``. The service that performs one records it (the
  resend, the digest run, the send-now, the channel test take ``actor`` and ``origin``), so
  every way in is audited alike: the API, the admin's actions (actor: the staff user,
  ``details["origin"]`` ``admin``) and the management commands (no user, so
  ``details["origin"]`` names the command, e.g. ``manage.py run_birthday_job``: auditlog's
  ``remote_addr`` is an IP address column and cannot hold a label). A notification that
  ends failed or unknown can be recorded the same way by the delivery code
  (:func:`audit_notification_failed`, action ``system``), so admins find it in the audit
  view and replay it from there.
- **The workspace filter is indexed**: :meth:`AuditEntryQuerySet.for_workspace` compares
  ``additional_data ->> 'workspace_id'`` as text, the expression of the index
  ``auditlog_entry_ws_ts_idx`` (``workspaces`` migration 0004, PostgreSQL), which also serves
  the audit view's newest-first order.
- **Retention** (:func:`audit_entries_prune`): entries older than ``AUDIT_RETENTION_DAYS``
  (default 365; 0 keeps them forever) are deleted in small chunks by the daily
  ``prune_history`` job (``notifications/retention.py``).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import time
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from auditlog.diff import get_mask_function
from auditlog.models import LogEntry
from auditlog.receivers import log_delete, log_update
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.db.models.fields.json import KT
from django.db.models.signals import post_delete, pre_delete, pre_save
from django.utils import timezone as dj_timezone
from django.utils.encoding import smart_str

from birthdaybuddy.errors import ApplicationError
from birthdaybuddy.logging import NO_REQUEST, request_id_var

if TYPE_CHECKING:
    from django.http import HttpRequest

    from workspaces.models import Workspace

logger = logging.getLogger(__name__)

WORKSPACE_KEY = "workspace_id"
OPERATION_KEY = "operation"
DETAILS_KEY = "details"
MASK = "********"
TIMESTAMPS = ("created_at", "updated_at")

# Operations recorded by audit_manual_send (others may be added; these are the known ones).
OPERATIONS = (
    "notification.resend",
    "reminder.send_now",
    "digest.run_now",
    "channel.test",
    "people.import",
    "event.resend_invitation",
)
# ``details["origin"]`` of entries made outside the API (the API leaves it out).
ORIGIN_KEY = "origin"
ADMIN_ORIGIN = "admin"


def command_origin(name: str) -> str:
    """The origin label of entries written by a management command, e.g. ``manage.py run_birthday_job``."""
    return f"manage.py {name}"


# What the system records on its own (audit_notification_failed): shown as action "system".
NOTIFICATION_FAILED = "notification.failed"
SYSTEM_OPERATIONS = (NOTIFICATION_FAILED,)


@dataclass(frozen=True)
class Audited:
    """How one model is audited. ``workspace``: the attribute path from an object to its workspace id."""

    label: str
    workspace: str = "workspace_id"
    exclude: tuple[str, ...] = TIMESTAMPS
    mask: tuple[str, ...] = ()
    m2m: tuple[str, ...] = ()


AUDITED: tuple[Audited, ...] = (
    Audited("workspaces.Workspace", workspace="pk"),
    Audited("workspaces.Membership"),
    Audited("workspaces.Invitation", exclude=(*TIMESTAMPS, "token_hash")),
    Audited("workspaces.Person", exclude=(*TIMESTAMPS, "preferences_key")),
    Audited("notifications.ChannelConfig", mask=("webhook_url", "bot_token", "auth_token")),
    Audited("notifications.Template"),
    Audited(
        "reminders.Reminder",
        exclude=(*TIMESTAMPS, "next_run_at", "next_occurrence_at", "last_run_at"),
        m2m=("recipients",),
    ),
    Audited("events.Event", exclude=(*TIMESTAMPS, "sequence")),
    Audited("events.Attendee", workspace="event.workspace_id", exclude=(*TIMESTAMPS, "rsvp_token_hash")),
    Audited("events.CalendarFeed", exclude=(*TIMESTAMPS, "token_hash")),
)

# What the audit view can filter by: the audited models, and Notification (manual sends target it).
MODEL_LABELS: tuple[str, ...] = (*sorted(spec.label.lower() for spec in AUDITED), "notifications.notification")

_ignored_on_update: dict[type[models.Model], frozenset[str]] = {}


# --- registration ---------------------------------------------------------------------------


def mask_secret(value: str) -> str | None:
    """auditlog's mask: a secret is shown as set, cleared or unset, never even partly."""
    if value in (None, "None"):
        return None
    return MASK if value else ""


def current_request_id() -> str | None:
    """auditlog's correlation id: the request id of the request being served (X-Request-ID)."""
    request_id = request_id_var.get()
    return None if request_id == NO_REQUEST else request_id


def workspace_id_of(instance: models.Model, path: str) -> str | None:
    value: Any = instance
    try:
        for part in path.split("."):
            value = getattr(value, part)
            if value is None:
                return None
    except ObjectDoesNotExist:
        return None
    return str(value)


def _attach_additional_data(model: type[models.Model], path: str) -> None:
    """Gives the model auditlog's ``get_additional_data`` hook (keeping one it already has)."""
    existing = getattr(model, "get_additional_data", None)
    if getattr(existing, "workspace_path", None) is not None:
        existing = existing.wraps
    own = existing

    def get_additional_data(self) -> dict:
        data = dict(own(self) or {}) if own is not None else {}
        data.setdefault(WORKSPACE_KEY, workspace_id_of(self, path))
        return data

    get_additional_data.workspace_path = path
    get_additional_data.wraps = own
    model.get_additional_data = get_additional_data


def _log_update(sender, instance, update_fields=None, **kwargs) -> None:
    """auditlog's update receiver, skipped for saves that only touch excluded fields."""
    if update_fields is not None and set(update_fields) <= _ignored_on_update.get(sender, frozenset()):
        return
    log_update(sender, instance=instance, update_fields=update_fields, **kwargs)


def _log_delete(sender, instance, origin=None, **kwargs) -> None:
    """auditlog's delete receiver, skipped for rows deleted because their workspace was."""
    from workspaces.models import Workspace

    if isinstance(origin, Workspace) and not isinstance(instance, Workspace):
        return
    log_delete(sender, instance=instance, origin=origin, **kwargs)


def _swap_receiver(signal, model: type[models.Model], original, replacement) -> None:
    uid = auditlog._dispatch_uid(signal, original)
    if not signal.disconnect(sender=model, dispatch_uid=uid):
        raise ImproperlyConfigured(f"auditlog did not connect {original.__name__} for {model._meta.label}")
    signal.connect(replacement, sender=model, weak=False, dispatch_uid=f"bb-audit-{replacement.__name__}-{uid}")


def register_audited_models() -> list[type[models.Model]]:
    """Registers :data:`AUDITED` with auditlog (models of apps not installed are skipped)."""
    registered = []
    for spec in AUDITED:
        try:
            model = apps.get_model(spec.label)
        except LookupError:
            continue
        fields = {field.name for field in model._meta.get_fields()}
        # Only the model's own columns: auditlog would otherwise list reverse relations on create.
        tracked = [
            field.name
            for field in model._meta.concrete_fields
            if not field.primary_key and field.name not in spec.exclude
        ]
        auditlog.unregister(model)
        auditlog.register(
            model,
            include_fields=tracked,
            mask_fields=[name for name in spec.mask if name in fields],
            m2m_fields=[name for name in spec.m2m if name in fields],
        )
        _swap_receiver(pre_save, model, log_update, _log_update)
        _swap_receiver(post_delete, model, log_delete, _log_delete)
        _ignored_on_update[model] = frozenset(spec.exclude) | {
            field.attname for field in model._meta.concrete_fields if field.name in spec.exclude
        }
        _attach_additional_data(model, spec.workspace)
        registered.append(model)
    pre_save.connect(_fill_from_request, sender=LogEntry, dispatch_uid="bb-audit-fill-from-request")
    pre_delete.connect(_note_user_deletion, sender=settings.AUTH_USER_MODEL, dispatch_uid="bb-audit-user-deleted")
    return registered


# --- the request: actor, address ------------------------------------------------------------

_current_request: ContextVar[HttpRequest | None] = ContextVar("bb_audit_request", default=None)


def client_address(request: HttpRequest) -> str | None:
    """The client's IP as DRF's throttles see it (``NUM_PROXIES`` trusted proxies), if it is an IP."""
    num_proxies = getattr(settings, "REST_FRAMEWORK", {}).get("NUM_PROXIES") or 0
    address = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(num_proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


def _request_user(request: HttpRequest | None):
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and getattr(user, "is_authenticated", False) else None


DELETED_USERS_ATTR = "_audit_deleted_user_ids"


class AuditMiddleware:
    """Takes the place of auditlog's middleware: who made an entry, and from where.

    auditlog's own middleware reads ``request.user`` before the view runs; with JWT, DRF only
    authenticates inside the view, so every API entry would be "system". This one keeps the
    request in a context variable while it is served (reset afterwards), and
    :func:`_fill_from_request` reads ``request.user`` at the moment an entry is written — by
    then DRF has put the authenticated user on the request (session users of the admin are
    there from the start). It also avoids auditlog's per-request global signal connection.
    The client address honours ``NUM_PROXIES`` instead of trusting any X-Forwarded-For.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def _fill_from_request(sender, instance: LogEntry, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    request = _current_request.get()
    if request is None:
        return
    deleted = getattr(request, DELETED_USERS_ATTR, ())
    if instance.actor_id is None:
        user = _request_user(request)
        if user is not None:
            instance.actor_email = user.email
            if user.pk not in deleted:
                instance.actor = user
    elif instance.actor_id in deleted:
        # The actor deletes their own account in this request: the entry keeps their email,
        # a reference to the row would break the foreign key when the transaction commits.
        instance.actor = None
    if instance.remote_addr is None:
        instance.remote_addr = client_address(request)


def _note_user_deletion(sender, instance, **kwargs) -> None:
    request = _current_request.get()
    if request is not None:
        request.__dict__.setdefault(DELETED_USERS_ATTR, set()).add(instance.pk)


def request_context() -> dict[str, Any]:
    """Actor, address and correlation id of the request being served (empty outside one)."""
    request = _current_request.get()
    user = _request_user(request)
    return {
        "actor": user,
        "actor_email": getattr(user, "email", None),
        "remote_addr": client_address(request) if request is not None else None,
        "cid": current_request_id(),
    }


# --- writing entries ------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON (UUIDs, dates, decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_manual_send(
    *,
    workspace: Workspace,
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


def audit_notification_failed(*, notification: models.Model, status: str, reason: str = "") -> LogEntry:
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
    workspace: Workspace,
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
    _insert_entries(rows)
    return len(rows)


def _insert_entries(rows: list[dict[str, Any]]) -> None:
    """Writes entries (as column values by attname): COPY on PostgreSQL, ``bulk_create`` elsewhere.

    Tens of thousands of entries with two JSON documents each are most of an import's
    write time through ``bulk_create``; COPY takes a fraction of it.
    """
    if not rows:
        return
    connection = connections[LogEntry.objects.db]
    if connection.vendor != "postgresql":
        LogEntry.objects.bulk_create([LogEntry(**row) for row in rows], batch_size=1_000)
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


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value, cls=DjangoJSONEncoder)


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


# --- retention ------------------------------------------------------------------------------

PRUNE_CHUNK_SIZE = 5_000


def audit_retention() -> timedelta | None:
    """How long entries are kept (``AUDIT_RETENTION_DAYS``, default 365); None: forever (0 or less)."""
    days = settings.AUDIT_RETENTION_DAYS
    return timedelta(days=days) if days and days > 0 else None


def audit_entries_prune(
    *,
    now: datetime | None = None,
    retention: timedelta | None = None,
    chunk_size: int = PRUNE_CHUNK_SIZE,
    dry_run: bool = False,
    deadline: float | None = None,
) -> tuple[int, bool]:
    """Deletes entries older than ``now - retention`` (default :func:`audit_retention`).

    Oldest first, ``chunk_size`` rows per statement and transaction, so the table is never
    locked for long and a large backlog does not hold one huge transaction. ``deadline``
    (a ``time.monotonic()`` value) stops between chunks. Returns ``(deleted, complete)``;
    with ``dry_run`` the count of what would go, and nothing is deleted.
    """
    retention = retention if retention is not None else audit_retention()
    if retention is None:
        return 0, True
    old = audit_entries().older_than((now or dj_timezone.now()) - retention)
    if dry_run:
        return old.count(), True
    return delete_in_chunks(old, order_by="timestamp", chunk_size=chunk_size, deadline=deadline)


def delete_in_chunks(
    queryset: models.QuerySet, *, order_by: str, chunk_size: int, deadline: float | None = None
) -> tuple[int, bool]:
    """Deletes ``queryset``'s rows ``chunk_size`` at a time (each chunk its own short transaction).

    Rows are picked in ``order_by`` order (an indexed column, so each pick is an index range
    scan) and deleted by primary key. For models nothing else refers to (no cascades to collect).
    Returns ``(deleted, complete)``: complete is False when ``deadline`` stopped it early.
    """
    deleted = 0
    model = queryset.model
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by(order_by).values_list("pk", flat=True)[:chunk_size])
            if pks:
                deleted += model._base_manager.using(queryset.db).filter(pk__in=pks).delete()[0]
        if len(pks) < chunk_size:
            return deleted, True
        if deadline is not None and time.monotonic() >= deadline:
            return deleted, False


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


# --- replaying ------------------------------------------------------------------------------


class NotAReplayableEntry(ApplicationError):
    status_code = 404
    default_code = "not_found"


@transaction.atomic
def audit_entry_replay(*, entry: LogEntry, workspace: Workspace, actor):
    """Resends the notification an entry is about (the same as the notifications' resend).

    Only entries about a notification of ``workspace`` can be replayed (else
    :class:`NotAReplayableEntry`, a 404); the notifications app decides whether it may be
    resent (``Conflict``, a 409, unless it is ``failed`` or ``unknown``). The replay is
    itself audited as a ``notification.resend``.
    """
    # Imported here: the notifications app sits above this one; only this action reaches up.
    from notifications import services as notification_services
    from notifications.models import Notification

    if entry.content_type.model_class() is not Notification:
        raise NotAReplayableEntry("Only entries about a notification can be replayed.", code="not_replayable")
    notification = Notification.objects.filter(workspace=workspace, pk=entry.object_pk).first()
    if notification is None:
        raise NotAReplayableEntry("The notification of this entry no longer exists.", code="not_found")
    return notification_services.notification_resend(
        notification=notification, actor=actor, details={"replayed_entry": entry.pk}
    )
