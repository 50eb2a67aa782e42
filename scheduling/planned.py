"""A planned message: the unsaved notification of one occurrence, its idempotency key, and
whether a run already wrote it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from notifications.models import Notification, NotificationStatus
from notifications.person_links import preferences_url, with_preferences_link
from notifications.rendering import Rendered
from reminders.models import Reminder
from workspaces.models import Channel, Person

WEBHOOK_RECIPIENT = "webhook"
# The channels that show a variant's picture; SMS and WhatsApp send the text only.
IMAGE_CHANNELS = frozenset({Channel.SLACK, Channel.EMAIL})


@dataclass(slots=True)
class PlannedMessage:
    notification: Notification
    exists: bool = False

    @property
    def skipped(self) -> bool:
        return self.notification.status == NotificationStatus.SKIPPED

    def as_dict(self) -> dict:
        n = self.notification
        return {
            "channel": n.channel,
            "recipient": n.recipient,
            "person": str(n.person_id) if n.person_id else None,
            "subject": n.subject,
            "body": n.body,
            "already_sent": self.exists,
            "skipped": self.skipped,
            "reason": n.last_error,
        }


def idempotency_key(*, reminder: Reminder, slot: Slot, purpose: str, channel: str, recipient: str) -> str:
    recipient_hash = hashlib.sha256(recipient.lower().encode()).hexdigest()[:24]
    return f"{reminder.pk}:{slot.local:%Y%m%dT%H%M}:{purpose}:{channel}:{recipient_hash}"


def planned_values(
    *,
    reminder: Reminder,
    slot: Slot,
    purpose: str,
    channel: str,
    recipient: str,
    person: Person | None,
    rendered: Rendered,
    key: str = "",
) -> dict:
    """The notification of one planned message as its column values (attnames), for writers that
    insert rows without building models (``notifications_write_rows``); ``planned_notification``
    is the same message as an unsaved model. ``key``: the ``idempotency_key`` of these arguments,
    when the caller has it already."""
    preferences = preferences_url(person)
    values = {
        "workspace_id": reminder.workspace_id,
        "reminder_id": reminder.pk,
        "person_id": person.pk if person is not None else None,
        "channel": channel,
        "recipient": recipient,
        "subject": rendered.subject,
        "body": with_preferences_link(
            body=rendered.body, person=person, channel=channel, workspace=reminder.workspace, url=preferences
        ),
        "preferences_url": preferences,
        "occurrence_date": slot.local_date,
        "idempotency_key": key
        or idempotency_key(reminder=reminder, slot=slot, purpose=purpose, channel=channel, recipient=recipient),
    }
    if channel in IMAGE_CHANNELS and rendered.image_url:
        values["image_url"] = rendered.image_url
        values["image_alt"] = rendered.image_alt[:200]
    if rendered.failure:
        values["status"] = NotificationStatus.FAILED
        values["last_error"] = rendered.failure
    return values


def planned_notification(
    *,
    reminder: Reminder,
    slot: Slot,
    purpose: str,
    channel: str,
    recipient: str,
    person: Person | None,
    rendered: Rendered,
    key: str = "",
) -> Notification:
    """The unsaved notification of one planned message (its key makes a rerun create nothing)."""
    values = planned_values(
        reminder=reminder,
        slot=slot,
        purpose=purpose,
        channel=channel,
        recipient=recipient,
        person=person,
        rendered=rendered,
        key=key,
    )
    del values["workspace_id"], values["reminder_id"], values["person_id"]
    return Notification(workspace=reminder.workspace, reminder=reminder, person=person, **values)


def mark_existing(planned: list[PlannedMessage]) -> None:
    """Sets ``exists`` on the planned messages whose idempotency key is already written."""
    keys = [message.notification.idempotency_key for message in planned]
    existing: set = set()
    for start in range(0, len(keys), 5_000):
        chunk = keys[start : start + 5_000]
        found = Notification.objects.filter(idempotency_key__in=chunk).values_list("idempotency_key", flat=True)
        existing.update(found)
    for message in planned:
        message.exists = message.notification.idempotency_key in existing
