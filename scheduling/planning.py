"""Turns one occurrence of a reminder into the messages it sends: audience, channels and content.

Planning reads only. Each planned message carries its idempotency key
(reminder, occurrence, purpose, channel, recipient) and whether it already exists.

Routing of event, one-time and recurring reminders: each recipient gets the message on the
first of the reminder's ``channels`` (its order of preference) that they have not opted
out of and that reaches them (an email address, a phone number with SMS/WhatsApp set up, a
Slack id with a bot token). A reminder without channels follows each person's own
``preferred_channels``, then email, SMS, WhatsApp, Slack. A recipient no channel reaches
still gets a row, ``skipped`` with the reason, so nobody is dropped silently.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from events.models import Attendee, Rsvp
from notifications.models import ChannelConfig, Notification, NotificationStatus, Template
from notifications.rendering import Rendered, TemplateRenderError, default_source, render_message, render_source
from reminders.models import Audience, MessageType, Reminder, ReminderKind
from scheduling import slots
from scheduling.digest import Celebrations, celebrations_on
from scheduling.recurrence import Occurrence as Slot
from workspaces.models import Channel, Membership, Person

logger = logging.getLogger(__name__)

WEBHOOK_RECIPIENT = "webhook"
# Who a reminder without its own channel list tries after the person's preferences.
FALLBACK_ORDER = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.SLACK)


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


def plan_occurrence(*, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        planned = _plan_digest(reminder=reminder, slot=slot)
    else:
        planned = _plan_reminder(reminder=reminder, slot=slot)
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

    def add(
        *,
        purpose: str,
        channel: str,
        recipient: str,
        kind: str,
        context: dict,
        person: Person | None = None,
        rendered: Rendered | None = None,
    ):
        if rendered is None:
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
        members = _members_wanting(workspace=workspace, channel=Channel.EMAIL)
        if members:
            context = celebrations.context(workspace=workspace, mentions=False)
            # Every member gets the same text: render it once, not once per member.
            rendered = render_message(
                workspace=workspace, reminder_kind=reminder.kind, channel=Channel.EMAIL, context=context
            )
            for person in members:
                add(
                    purpose="digest",
                    channel=Channel.EMAIL,
                    recipient=person.email,
                    kind=reminder.kind,
                    context=context,
                    person=person,
                    rendered=rendered,
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


# --- event, one-time and recurring reminders -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """How one person is reached: a channel and address, or why nobody can be."""

    channel: str
    address: str | None
    reason: str = ""


def candidate_channels(person: Person, channels: list[str]) -> list[str]:
    if channels:
        return list(channels)
    preferred = [c for c in (person.preferred_channels or []) if c in Channel.values]
    return preferred + [c for c in FALLBACK_ORDER if c not in preferred]


def route_person(person: Person, channels: list[str], configs: dict[str, ChannelConfig]) -> Route:
    """The first channel, in order of preference, that the person allows and that reaches them."""
    candidates = candidate_channels(person, channels)
    opted_out = set(person.opted_out_channels or [])
    unreachable = []
    for channel in candidates:
        if channel in opted_out:
            continue
        address = _address(person, channel, configs)
        if address:
            return Route(channel=channel, address=address)
        unreachable.append(channel)
    blocked = [c for c in candidates if c in opted_out]
    parts = []
    if blocked:
        parts.append(f"opted out of {', '.join(blocked)}")
    if unreachable:
        parts.append(f"no address for {', '.join(unreachable)}")
    code = "opted_out" if not unreachable else "unreachable"
    return Route(channel=candidates[0], address=None, reason=f"{code}: {'; '.join(parts)}")


def audience_people(reminder: Reminder) -> list[Person]:
    """The people a (non-digest) reminder speaks to, each once, by name."""
    workspace = reminder.workspace
    audience = reminder.audience
    event = reminder.event if reminder.kind == ReminderKind.EVENT else None
    if audience == Audience.PEOPLE:
        return list(reminder.recipients.filter(workspace=workspace).order_by("name", "pk"))
    if audience == Audience.MEMBERS:
        members = Membership.objects.filter(workspace=workspace).values("user_id")
        return list(Person.objects.filter(workspace=workspace, user_id__in=members).order_by("name", "pk"))
    if event is None:
        return []
    condition = Q()
    if audience in (Audience.ATTENDEES, Audience.EVENT_PEOPLE):
        # Attendees who declined are not reminded.
        attending = Attendee.objects.filter(event=event).exclude(answer=Rsvp.NO).values("person_id")
        condition |= Q(pk__in=attending)
    if audience in (Audience.HOST, Audience.EVENT_PEOPLE) and event.host_id:
        condition |= Q(user_id=event.host_id)
    if not condition:
        return []
    return list(Person.objects.filter(condition, workspace=workspace).order_by("name", "pk"))


def _skip_recipient(person: Person) -> str:
    return person.email or person.phone or person.slack_user_id or f"person:{person.pk}"


class _Renderer:
    """Renders one kind's messages for one plan: the workspace's override (looked up once) or the default.

    The reminder's own text (``Reminder.message``, the API's ``template``) is itself a sandboxed
    template over the same data; its result is ``{{ message }}`` in the kind's template.
    """

    def __init__(self, *, workspace, kind: str):
        self.workspace = workspace
        self.kind = kind
        self._overrides: dict[str, Template] | None = None

    def _override(self, channel: str) -> Template | None:
        if self._overrides is None:
            self._overrides = {
                template.channel: template
                for template in Template.objects.filter(workspace=self.workspace, reminder_kind=self.kind).only(
                    "channel", "subject", "body"
                )
            }
        return self._overrides.get(channel)

    def render(self, *, channel: str, context: dict, text: str) -> Rendered:
        context = {"workspace": {"name": self.workspace.name}, **context, "message": ""}
        if text:
            try:
                context["message"] = render_source(subject="", body=text, channel=channel, context=context).body
            except TemplateRenderError:
                logger.warning("reminder text failed to render; sending it as written", exc_info=True)
                context["message"] = text
        subject, body = default_source(reminder_kind=self.kind, channel=channel)
        override = self._override(channel)
        if override is not None:
            try:
                return render_source(
                    subject=override.subject or subject, body=override.body, channel=channel, context=context
                )
            except TemplateRenderError:
                logger.warning("template override %s failed to render; using the default", override.pk, exc_info=True)
        return render_source(subject=subject, body=body, channel=channel, context=context)


def _when(local: datetime, *, all_day: bool) -> str:
    text = f"{local:%A} {local.day} {local:%B}"
    return text if all_day else f"{text}, {local:%H:%M}"


def _event_context(event, occurrence: slots.EventOccurrence | None, tz: ZoneInfo) -> dict:
    data = {"title": event.title, "kind": event.kind, "location": event.location, "all_day": event.all_day}
    if occurrence is not None:
        data |= {
            "when": _when(occurrence.local, all_day=occurrence.all_day),
            "date": occurrence.local.date().isoformat(),
            "time": None if occurrence.all_day else f"{occurrence.local:%H:%M}",
            "starts_at": occurrence.starts_at.isoformat(),
        }
    return data


def _plan_reminder(*, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
    workspace = reminder.workspace
    context: dict = {
        "date": slot.local_date.isoformat(),
        "time": f"{slot.local:%H:%M}",
        "reminder": {"name": reminder.name, "message_type": reminder.message_type or MessageType.CUSTOM},
    }
    if reminder.kind == ReminderKind.EVENT:
        event = reminder.event
        if not slots.event_is_live(event):
            return []  # re-checked at fire time: a cancelled event sends nothing
        occurrence = slots.event_occurrence_for(reminder, slot)
        context["event"] = _event_context(event, occurrence, slots.time_zone(reminder))
    configs = {config.kind: config for config in ChannelConfig.objects.filter(workspace=workspace, active=True)}
    renderer = _Renderer(workspace=workspace, kind=reminder.kind)
    planned: list[PlannedMessage] = []

    def add(*, channel: str, recipient: str, person: Person | None, reason: str = "") -> None:
        person_context = None
        if person is not None:
            mention = f"<@{person.slack_user_id}>" if channel == Channel.SLACK and person.slack_user_id else person.name
            person_context = {"name": person.name, "mention": mention}
        rendered = renderer.render(
            channel=channel, context={**context, "person": person_context}, text=reminder.message
        )
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
                reminder=reminder, slot=slot, purpose="reminder", channel=channel, recipient=recipient
            ),
        )
        if reason:
            notification.status = NotificationStatus.SKIPPED
            notification.last_error = reason
        planned.append(PlannedMessage(notification=notification))

    if reminder.audience == Audience.WORKSPACE_CHANNEL:
        # No Slack set up (and no console fallback): the row fails visibly with "channel_not_configured".
        recipient = _slack_recipient(configs.get(Channel.SLACK)) or WEBHOOK_RECIPIENT
        add(channel=Channel.SLACK, recipient=recipient, person=None)
        return planned

    for person in audience_people(reminder):
        route = route_person(person, reminder.channels or [], configs)
        if route.address:
            add(channel=route.channel, recipient=route.address, person=person)
        else:
            add(channel=route.channel, recipient=_skip_recipient(person), person=person, reason=route.reason)
    return planned
