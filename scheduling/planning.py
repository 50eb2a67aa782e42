"""Turns one occurrence of a reminder into the messages it sends: audience, channels and content.

Planning reads only. Each planned message carries its idempotency key
(reminder, occurrence, purpose, channel, recipient) and whether it already exists.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from notifications.models import ChannelConfig, Notification
from notifications.rendering import render_message
from reminders.models import Reminder, ReminderKind
from scheduling.digest import Celebrations, celebrations_on
from scheduling.recurrence import Occurrence as Slot
from workspaces.models import Channel, Membership, Person

WEBHOOK_RECIPIENT = "webhook"


@dataclass(slots=True)
class PlannedMessage:
    notification: Notification
    exists: bool = False

    def as_dict(self) -> dict:
        n = self.notification
        return {
            "channel": n.channel,
            "recipient": n.recipient,
            "person": str(n.person_id) if n.person_id else None,
            "subject": n.subject,
            "body": n.body,
            "already_sent": self.exists,
        }


def idempotency_key(*, reminder: Reminder, slot: Slot, purpose: str, channel: str, recipient: str) -> str:
    recipient_hash = hashlib.sha256(recipient.lower().encode()).hexdigest()[:24]
    return f"{reminder.pk}:{slot.local:%Y%m%dT%H%M}:{purpose}:{channel}:{recipient_hash}"


def plan_occurrence(*, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        planned = _plan_digest(reminder=reminder, slot=slot)
    else:
        raise ValueError(f"reminders of kind {reminder.kind!r} are not planned by this engine yet")
    keys = [message.notification.idempotency_key for message in planned]
    existing = set(Notification.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    for message in planned:
        message.exists = message.notification.idempotency_key in existing
    return planned


def _slack_recipient(config: ChannelConfig | None) -> str | None:
    if config is not None:
        return config.channel_id if config.bot_token and config.channel_id else WEBHOOK_RECIPIENT
    if settings.NOTIFICATIONS_CONSOLE_FALLBACK:
        return WEBHOOK_RECIPIENT
    return None


def _address(person: Person, channel: str, configs: dict[str, ChannelConfig]) -> str | None:
    """Where ``person`` is reached on ``channel``, or None when that channel can't reach them."""
    fallback = settings.NOTIFICATIONS_CONSOLE_FALLBACK
    if channel == Channel.EMAIL:
        return person.email or None
    if channel in (Channel.SMS, Channel.WHATSAPP):
        return person.phone if person.phone and (channel in configs or fallback) else None
    if channel == Channel.SLACK:
        config = configs.get(Channel.SLACK)
        # A direct message needs a bot token; a webhook posts only to its own channel.
        if person.slack_user_id and ((config and config.bot_token) or (config is None and fallback)):
            return person.slack_user_id
    return None


def _wants(person: Person, channel: str) -> bool:
    return channel in (person.preferred_channels or []) and channel not in (person.opted_out_channels or [])


def _plan_digest(*, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
    workspace = reminder.workspace
    celebrations = celebrations_on(workspace=workspace, day=slot.local_date)
    if not celebrations:
        return []
    configs = {config.kind: config for config in ChannelConfig.objects.filter(workspace=workspace, active=True)}
    channels = reminder.channels or [Channel.SLACK, Channel.EMAIL]
    planned: list[PlannedMessage] = []

    def add(*, purpose: str, channel: str, recipient: str, kind: str, context: dict, person: Person | None = None):
        rendered = render_message(workspace=workspace, reminder_kind=kind, channel=channel, context=context)
        notification = Notification(
            workspace=workspace,
            reminder=reminder,
            person=person,
            channel=channel,
            recipient=recipient,
            subject=rendered.subject,
            body=rendered.body,
            occurrence_date=slot.local_date,
            idempotency_key=idempotency_key(
                reminder=reminder, slot=slot, purpose=purpose, channel=channel, recipient=recipient
            ),
        )
        planned.append(PlannedMessage(notification=notification))

    if Channel.SLACK in channels:
        recipient = _slack_recipient(configs.get(Channel.SLACK))
        if recipient:
            context = celebrations.context(workspace=workspace, mentions=True)
            add(purpose="digest", channel=Channel.SLACK, recipient=recipient, kind=reminder.kind, context=context)

    if Channel.EMAIL in channels:
        context = celebrations.context(workspace=workspace, mentions=False)
        for person in _members_wanting(workspace=workspace, channel=Channel.EMAIL):
            add(
                purpose="digest",
                channel=Channel.EMAIL,
                recipient=person.email,
                kind=reminder.kind,
                context=context,
                person=person,
            )

    if reminder.personal_greetings:
        _plan_greetings(workspace=workspace, celebrations=celebrations, configs=configs, add=add)
    return planned


def _members_wanting(*, workspace, channel: str) -> list[Person]:
    member_ids = Membership.objects.filter(workspace=workspace).values("user_id")
    people = Person.objects.filter(workspace=workspace, user_id__in=member_ids).exclude(email="").order_by("name")
    return [person for person in people if _wants(person, channel)]


def _plan_greetings(*, workspace, celebrations: Celebrations, configs: dict[str, ChannelConfig], add) -> None:
    for celebration in (*celebrations.birthdays, *celebrations.anniversaries):
        person = celebration.person
        for channel in person.preferred_channels or [Channel.EMAIL]:
            if channel in (person.opted_out_channels or []):
                continue
            recipient = _address(person, channel, configs)
            if recipient:
                context = {
                    "workspace": {"name": workspace.name},
                    "date": celebrations.day.isoformat(),
                    "kind": celebration.kind,
                    "person": celebration.as_context(mentions=channel == Channel.SLACK),
                }
                add(
                    purpose=f"greeting-{celebration.kind}",
                    channel=channel,
                    recipient=recipient,
                    kind="personal_greeting",
                    context=context,
                    person=person,
                )
                break
