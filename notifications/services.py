"""Every write of the notifications app, and the interface the scheduler calls.

The scheduler writes notifications inside its own transaction (the outbox) and queues
them after commit::

    with transaction.atomic():
        ids = notifications_write(notifications=[Notification(...), ...])
        ...advance next_run_at...
        notifications_enqueue(notification_ids=ids)

Delivery itself (the state machine) lives in ``notifications/delivery/``; the functions
here are its public names.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.entries import audit_manual_send
from birthdaybuddy.db import insert_ignoring_conflicts, insert_values_ignoring_conflicts
from birthdaybuddy.errors import Conflict
from birthdaybuddy.validators import normalize_phone
from notifications import delivery
from notifications.channel_test import ChannelTestResult, send_test, test_recipient
from notifications.models import ChannelConfig, Notification, NotificationStatus, Template
from notifications.queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("webhook_url", "bot_token", "auth_token")
CHANNEL_CONFIG_FIELDS = (
    "kind",
    "active",
    "webhook_url",
    "bot_token",
    "channel_id",
    "account_sid",
    "auth_token",
    "from_number",
    "messaging_service_sid",
    "whatsapp_template_sid",
    "from_name",
    "reply_to",
    "rate_per_second",
    "digest_layout",
)
RESENDABLE = frozenset({NotificationStatus.FAILED, NotificationStatus.UNKNOWN})


# --- the scheduler's interface ----------------------------------------------------------------


def notifications_write(*, notifications: list[Notification]) -> list[uuid.UUID]:
    """Inserts unsaved notifications, skipping any whose ``idempotency_key`` exists; returns the ids inserted.

    ``INSERT … ON CONFLICT DO NOTHING`` (see ``birthdaybuddy.db``): the ids that made it in
    come back from the same statement on PostgreSQL (read back on SQLite).
    Call it inside the transaction that also records why these notifications exist; a
    concurrent writer of the same key waits for that transaction and then inserts nothing.
    """
    unique: dict[str, Notification] = {}
    for notification in notifications:
        unique.setdefault(notification.idempotency_key, notification)
    rows = list(unique.values())
    if not rows:
        return []
    now = timezone.now()
    for row in rows:
        row.id = row.id or uuid.uuid4()
        row.updated_at = row.updated_at or now
    with transaction.atomic(savepoint=False):
        inserted = set(insert_ignoring_conflicts(Notification, rows))
    return [row.id for row in rows if row.id in inserted]


def notifications_write_rows(*, rows: list[dict]) -> list[uuid.UUID]:
    """``notifications_write`` for notifications given as column values (attnames; see
    ``birthdaybuddy.db.insert_values_ignoring_conflicts``): the same keys skipped, the ids inserted."""
    unique: dict[str, dict] = {}
    for row in rows:
        unique.setdefault(row["idempotency_key"], row)
    values = list(unique.values())
    if not values:
        return []
    for row in values:
        row.setdefault("id", uuid.uuid4())
    with transaction.atomic(savepoint=False):
        inserted = set(insert_values_ignoring_conflicts(Notification, values))
    return [row["id"] for row in values if row["id"] in inserted]


def notifications_enqueue(*, notification_ids: Iterable, countdown: float | None = None, batch: bool = False) -> None:
    """Queues delivery after the current transaction commits (per message, or in batches from a
    threshold; ``batch``: in batches whatever the count)."""
    enqueue_on_commit(notification_ids, countdown=countdown, batch=batch)


def notification_deliver(*, notification_id, now: datetime | None = None) -> str:
    """Claims, sends and records one notification; see ``notifications/delivery/``."""
    return delivery.deliver_one(notification_id=notification_id, now=now)


def notifications_deliver_batch(*, notification_ids: Iterable, now: datetime | None = None) -> dict[str, int]:
    """Delivers many notifications concurrently, each through the same claim/state machine."""
    return delivery.deliver_batch(notification_ids=notification_ids, now=now)


def notifications_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Re-queues pending notifications nobody took and settles ``sending`` ones whose worker died."""
    return delivery.sweep(now=now)


@transaction.atomic
def notification_resend(
    *, notification: Notification, actor=None, origin: str | None = None, details: dict | None = None
) -> Notification:
    """A new notification (new idempotency key ``resend:<old id>:<n>``) for a failed or unknown one.

    Raises ``Conflict`` (409) for any other status, or while an earlier resend is still
    pending, sending or sent. Recorded in the workspace's audit log as
    ``notification.resend`` by ``actor`` from ``origin``, ``details`` added to the entry's.
    """
    original = Notification.objects.select_for_update().get(pk=notification.pk)
    if original.status not in RESENDABLE:
        raise Conflict(
            f"Only failed or unknown notifications can be resent; this one is {original.status}.",
            code="not_resendable",
        )
    earlier = list(original.resends.values_list("pk", "status"))
    for pk, status in earlier:
        if status not in RESENDABLE | {NotificationStatus.SKIPPED}:
            raise Conflict(
                f"This notification was already resent ({status}).",
                code="already_resent",
                extra={"resend_id": str(pk)},
            )
    copy = Notification(
        workspace_id=original.workspace_id,
        reminder_id=original.reminder_id,
        person_id=original.person_id,
        channel=original.channel,
        recipient=original.recipient,
        subject=original.subject,
        body=original.body,
        calendar=original.calendar,
        preferences_url=original.preferences_url,
        rsvp_url=original.rsvp_url,
        image_url=original.image_url,
        image_alt=original.image_alt,
        occurrence_date=original.occurrence_date,
        # A thread reply stays one: its parent was settled before it was first claimed.
        blocks=original.blocks,
        thread_parent_id=original.thread_parent_id,
        idempotency_key=f"resend:{original.pk}:{len(earlier) + 1}",
        resent_from=original,
    )
    if not notifications_write(notifications=[copy]):
        raise Conflict("This notification was already resent.", code="already_resent")
    notifications_enqueue(notification_ids=[copy.pk])
    audit_manual_send(
        workspace=original.workspace,
        actor=actor,
        action="notification.resend",
        target=original,
        details={"resend_id": str(copy.pk), **(details or {})},
        origin=origin,
    )
    logger.info("notification %s resent as %s", original.pk, copy.pk)
    return Notification.objects.get(pk=copy.pk)


# --- channel configs --------------------------------------------------------------------------


def _normalize_channel_fields(data: dict) -> dict:
    fields = {}
    for name, value in data.items():
        if name not in CHANNEL_CONFIG_FIELDS:
            continue
        if isinstance(value, str):
            value = value.strip()
        if name in SECRET_FIELDS and not value:
            value = None
        fields[name] = value
    if fields.get("from_number"):
        try:
            fields["from_number"] = normalize_phone(fields["from_number"])
        except ValidationError as exc:
            raise ValidationError({"from_number": exc.messages}) from exc
    return fields


def _save_channel_config(config: ChannelConfig) -> ChannelConfig:
    if ChannelConfig.objects.filter(workspace=config.workspace, kind=config.kind).exclude(pk=config.pk).exists():
        raise ValidationError({"kind": [f"This workspace already has a {config.kind} channel; update that one."]})
    config.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            config.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"kind": [f"This workspace already has a {config.kind} channel; update that one."]}
        ) from exc
    return config


def channel_config_create(*, workspace, **data) -> ChannelConfig:
    config = ChannelConfig(workspace=workspace, **_normalize_channel_fields(data))
    return _save_channel_config(config)


def channel_config_update(*, config: ChannelConfig, **data) -> ChannelConfig:
    """Changes the given fields; omitted secrets keep their value, ``None``/empty clears one."""
    fields = _normalize_channel_fields(data)
    if "kind" in fields and fields["kind"] != config.kind:
        raise ValidationError({"kind": ["The kind of a channel cannot change; create a new channel instead."]})
    for name, value in fields.items():
        setattr(config, name, value)
    return _save_channel_config(config)


def channel_config_delete(*, config: ChannelConfig) -> None:
    config.delete()


def channel_config_send_test(
    *, config: ChannelConfig, recipient: str | None = None, user=None, origin: str | None = None
) -> ChannelTestResult:
    """Sends a test message through the real provider now and reports its answer.

    Slack goes to the configured channel; email and SMS/WhatsApp to ``recipient`` (default:
    the requesting user's address or phone). The destination's rate limit applies (429).
    WhatsApp follows the session-window rule of delivery (free-form, template, or refused).
    Whatever the provider answered is recorded in the workspace's audit log as
    ``channel.test`` by ``user`` (``None``: a command) from ``origin``; a refusal (bad
    recipient, 429) sends nothing and records nothing.
    """
    result = send_test(config, test_recipient(config, recipient, user))
    audit_manual_send(
        workspace=config.workspace,
        actor=user,
        action="channel.test",
        target=config,
        details={"recipient": result.recipient, "outcome": result.outcome, "ok": result.ok},
        origin=origin,
    )
    return result


# --- templates --------------------------------------------------------------------------------


def _save_template(template: Template) -> Template:
    """Saves one variant; several may share a kind and channel, each with its own ``label``."""
    duplicate = (
        Template.objects.filter(
            workspace=template.workspace,
            reminder_kind=template.reminder_kind,
            channel=template.channel,
            label=template.label,
        )
        .exclude(pk=template.pk)
        .exists()
    )
    if duplicate:
        which = f"variant “{template.label}”" if template.label else "variant without a label"
        raise ValidationError(
            {
                "label": [
                    f"This workspace already has a {which} of the {template.reminder_kind}/{template.channel} "
                    "template; update that one or give this one another label."
                ]
            }
        )
    template.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise ValidationError({"label": ["This workspace already has a variant with this label."]}) from exc
    return template


def template_create(
    *,
    workspace,
    reminder_kind: str,
    channel: str,
    body: str,
    subject: str = "",
    label: str = "",
    image_url: str = "",
    image_alt: str = "",
) -> Template:
    """A variant of a kind and channel's message; the workspace's variants replace the shipped set."""
    template = Template(
        workspace=workspace,
        reminder_kind=reminder_kind,
        channel=channel,
        subject=subject,
        body=body,
        label=label,
        image_url=image_url,
        image_alt=image_alt,
    )
    return _save_template(template)


def template_update(*, template: Template, **fields) -> Template:
    for name in ("reminder_kind", "channel", "subject", "body", "label", "image_url", "image_alt"):
        if name in fields:
            setattr(template, name, fields[name])
    return _save_template(template)


def template_delete(*, template: Template) -> None:
    template.delete()
