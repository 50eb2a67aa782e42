"""Turns one occurrence of a reminder into the messages it sends: audience, channels and content.

Planning reads only. Each planned message carries its idempotency key
(reminder, occurrence, purpose, channel, recipient) and whether it already exists.

Who receives what on which channel: ``scheduling/recipients.py``; what a planned message is:
``scheduling/planned.py``; a digest occurrence's messages: ``scheduling/digest_planning.py``.

A :class:`Planner` plans many occurrences together (the tick's whole claimed batch): it
reads who celebrates, the workspaces' channel configs, members and template overrides,
and the reminders' audiences with one query each for the batch, never one per reminder.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import Exists, F, OuterRef
from django.utils.text import format_lazy

from birthdaybuddy.i18n import day_text, language_of
from birthdaybuddy.timerules.occurrences import EventOccurrence
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from events.models import Attendee, Rsvp
from notifications.models import ChannelConfig, NotificationStatus, Template
from notifications.rendering import (
    VARIANT_FIELDS,
    ChannelText,
    Rendered,
    TemplateLimitExceeded,
    TemplateRenderError,
    default_variants,
    render_source,
    render_with_override,
    slack_mention,
)
from notifications.routing import route_person
from notifications.variants import variant_index
from reminders import appointments, slots
from reminders.models import EVENT_AUDIENCES, Audience, MessageType, Reminder, ReminderKind
from scheduling.alerts import PrepPlanner
from scheduling.digest import announced_through, celebrations_for, covered_after_for
from scheduling.digest_planning import plan_digest
from scheduling.own_time import pending_greetings
from scheduling.planned import (
    WEBHOOK_RECIPIENT,
    PlannedMessage,
    idempotency_key,
    mark_existing,
    planned_notification,
)
from scheduling.recipients import chat_webhook_channels, skip_recipient, slack_recipient
from workspaces.models import Channel, Membership, Person

logger = logging.getLogger(__name__)


def plan_occurrence(*, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
    """The messages of one occurrence, each marked ``exists`` when its key was already written."""
    return plan_occurrences(items=[(reminder, slot)])[0]


def plan_occurrences(*, items: Sequence[tuple[Reminder, Slot]]) -> list[list[PlannedMessage]]:
    """``plan_occurrence`` for many (reminder, occurrence) pairs, reading each kind of data once."""
    planner = Planner(items)
    plans = [planner.plan(reminder=reminder, slot=slot) for reminder, slot in items]
    mark_existing([message for planned in plans for message in planned])
    return plans


class Planner:
    """Plans the occurrences of a batch of reminders from data read once for the whole batch.

    Construction reads, with one query each (and only what the batch needs): who celebrates
    on each digest's local date, then — for the workspaces with something to send — their
    active channel configs, template overrides and members, and the audiences of the other
    reminders (chosen people, event attendees and hosts). :meth:`plan` reads nothing more.
    The reminders must come with ``workspace`` (and, for event reminders, ``event``) loaded.
    """

    def __init__(self, items: Sequence[tuple[Reminder, Slot]], *, prep: bool = False):
        """``prep``: also plan the digests' advance alerts and group cards (``scheduling/alerts.py``).
        Only the firing of an occurrence asks for them: previews, dry runs and extra copies leave
        them out (a preview would show the preparation to whoever reads it, the celebrated person
        among the admins included; an extra copy would send them twice)."""
        digests = [(reminder, slot) for reminder, slot in items if reminder.kind == ReminderKind.BIRTHDAY_DIGEST]
        others = [reminder for reminder, _ in items if reminder.kind != ReminderKind.BIRTHDAY_DIGEST]
        pairs = [(reminder.workspace, slot.local_date) for reminder, slot in digests]
        self.celebrations = celebrations_for(pairs=pairs, covered_after=covered_after_for(digests))
        self.prep = PrepPlanner(digests if prep else [], self.celebrations)
        # Each person's own time: a greeting whose schedule row stands for the day or later is the row's.
        self.pending = pending_greetings(
            (reminder.workspace, self.celebrations[(reminder.workspace_id, slot.local_date)])
            for reminder, slot in digests
        )
        busy = {
            reminder.workspace_id
            for reminder, slot in digests
            if self.celebrations[(reminder.workspace_id, slot.local_date)]
        }
        busy.update(reminder.workspace_id for reminder in others)
        member_workspaces = {
            reminder.workspace_id
            for reminder, slot in digests
            if reminder.workspace_id in busy and Channel.EMAIL in (reminder.channels or [Channel.EMAIL])
        }
        member_workspaces.update(r.workspace_id for r in others if r.audience == Audience.MEMBERS)
        self.configs: dict = defaultdict(dict)
        # A workspace's variants per (workspace, kind, channel), in their stable order.
        self.overrides: dict[tuple, list[Template]] = defaultdict(list)
        self.members: dict = defaultdict(list)
        self.audiences: dict = {}
        if busy:
            for config in ChannelConfig.objects.filter(workspace_id__in=busy, active=True):
                self.configs[config.workspace_id][config.kind] = config
            templates = (
                Template.objects.filter(workspace_id__in=busy).only(*VARIANT_FIELDS).order_by("created_at", "id")
            )
            for template in templates:
                self.overrides[(template.workspace_id, template.reminder_kind, template.channel)].append(template)
        if member_workspaces:
            is_member = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"))
            for person in Person.objects.filter(Exists(is_member), workspace_id__in=member_workspaces).order_by(
                "name", "pk"
            ):
                self.members[person.workspace_id].append(person)
        self._load_audiences(others)

    def covered_through(self, *, reminder: Reminder, slot: Slot) -> date | None:
        """What the occurrence records as covered (digests only; see ``scheduling.digest``)."""
        if reminder.kind != ReminderKind.BIRTHDAY_DIGEST:
            return None
        celebrations = self.celebrations.get((reminder.workspace_id, slot.local_date))
        if celebrations is not None:
            return celebrations.through
        return announced_through(workspace=reminder.workspace, day=slot.local_date)  # a missed one

    def _load_audiences(self, reminders: list[Reminder]) -> None:
        chosen = [r.pk for r in reminders if r.audience == Audience.PEOPLE]
        with_event = [
            r
            for r in reminders
            if r.kind == ReminderKind.EVENT and r.event is not None and r.audience in EVENT_AUDIENCES
        ]
        event_reminders = {r.pk for r in with_event}
        # Guests who have not answered: read when the reminder fires, not when it was set.
        unanswered_events = {
            r.event_id
            for r in reminders
            if r.audience == Audience.UNANSWERED_GUESTS and r.event_id is not None and slots.event_is_live(r.event)
        }
        unanswered: dict = defaultdict(list)
        if unanswered_events:
            for attendee in Attendee.objects.filter(event_id__in=unanswered_events, answer=Rsvp.PENDING).select_related(
                "person"
            ):
                unanswered[attendee.event_id].append(attendee.person)
        people: dict = defaultdict(list)
        if chosen:
            through = Reminder.recipients.through
            rows = (
                through.objects.filter(reminder_id__in=chosen, person__workspace_id=F("reminder__workspace_id"))
                .select_related("person")
                .order_by("person__name", "person__pk")
            )
            for row in rows:
                people[row.reminder_id].append(row.person)
        attending: dict = defaultdict(list)
        hosts: dict = {}
        if with_event:
            event_ids = {r.event_id for r in with_event}
            # Attendees who declined are not reminded.
            for attendee in (
                Attendee.objects.filter(event_id__in=event_ids).exclude(answer=Rsvp.NO).select_related("person")
            ):
                attending[attendee.event_id].append(attendee.person)
            host_ids = {r.event.host_id for r in with_event if r.event.host_id}
            workspace_ids = {r.workspace_id for r in with_event}
            if host_ids:
                for person in Person.objects.filter(workspace_id__in=workspace_ids, user_id__in=host_ids):
                    hosts.setdefault((person.workspace_id, person.user_id), []).append(person)
        for reminder in reminders:
            if reminder.audience == Audience.PEOPLE:
                self.audiences[reminder.pk] = people.get(reminder.pk, [])
            elif reminder.audience == Audience.MEMBERS:
                self.audiences[reminder.pk] = self.members.get(reminder.workspace_id, [])
            elif reminder.audience == Audience.UNANSWERED_GUESTS:
                guests = [p for p in unanswered.get(reminder.event_id, []) if p.workspace_id == reminder.workspace_id]
                self.audiences[reminder.pk] = sorted(guests, key=lambda p: (p.name, str(p.pk)))
            elif reminder.pk in event_reminders:
                event = reminder.event
                found: dict = {}
                if reminder.audience in (Audience.ATTENDEES, Audience.EVENT_PEOPLE):
                    attendees = attending.get(event.pk, [])
                    found.update((p.pk, p) for p in attendees if p.workspace_id == reminder.workspace_id)
                if reminder.audience in (Audience.HOST, Audience.EVENT_PEOPLE) and event.host_id:
                    found.update((p.pk, p) for p in hosts.get((reminder.workspace_id, event.host_id), []))
                self.audiences[reminder.pk] = sorted(found.values(), key=lambda p: (p.name, str(p.pk)))
            else:
                self.audiences[reminder.pk] = []

    def plan(self, *, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
        """The messages of one occurrence (``exists`` not yet known: see :func:`mark_existing`)."""
        if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
            celebrations = self.celebrations[(reminder.workspace_id, slot.local_date)]
            digest = plan_digest(self, reminder=reminder, slot=slot)
            planned_keys = {m.notification.idempotency_key for m in digest}
            prep = self.prep.plan(reminder=reminder, slot=slot, celebrations=celebrations, digest_keys=planned_keys)
            return digest + prep
        return self._plan_reminder(reminder=reminder, slot=slot)

    def render(
        self, *, workspace, kind: str, channel: str, context: dict, language: str | None = None, variant_key: str = ""
    ) -> Rendered:
        """``language``: the reader's; default the workspace's locale (a channel many people read).
        ``variant_key``: the message's idempotency key, which chooses its variant."""
        return render_with_override(
            override=self.overrides.get((workspace.pk, kind, channel)),
            workspace=workspace,
            reminder_kind=kind,
            channel=channel,
            context=context,
            language=language,
            variant_key=variant_key,
        )

    def variant_count(self, *, workspace, kind: str, channel: str) -> int:
        """How many variants the message of ``kind`` on ``channel`` chooses from in ``workspace``."""
        own = self.overrides.get((workspace.pk, kind, channel))
        return len(own) if own else len(default_variants(reminder_kind=kind, channel=channel))

    def _plan_reminder(self, *, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
        workspace = reminder.workspace
        context: dict = {
            "date": slot.local_date.isoformat(),
            "time": f"{slot.local:%H:%M}",
            "reminder": {"name": reminder.name, "message_type": reminder.message_type or MessageType.CUSTOM},
        }
        appointment = appointments.appointment_context(reminder)
        if appointment is not None:
            context["appointment"] = appointment
        if reminder.kind == ReminderKind.EVENT:
            event = reminder.event
            if not slots.event_is_live(event):
                return []  # re-checked at fire time: a cancelled event sends nothing
            occurrence = slots.event_occurrence_for(reminder, slot)
            context["event"] = _event_context(event, occurrence, slots.time_zone(reminder))
        configs = self.configs.get(workspace.pk, {})
        planned: list[PlannedMessage] = []
        texts: dict = {}

        def add(*, channel: str, recipient: str, person: Person | None, reason: str = "") -> None:
            person_context = None
            if person is not None:
                mention = slack_mention(person.slack_user_id) if channel == Channel.SLACK else None
                person_context = {"name": person.name, "mention": mention or person.name}
            language = language_of(person=person, workspace=workspace)
            # The text depends only on the channel, the language, the person's name and mention
            # and the variant the message's key chooses.
            name = None if person_context is None else (person_context["name"], person_context["mention"])
            message_key = idempotency_key(
                reminder=reminder, slot=slot, purpose="reminder", channel=channel, recipient=recipient
            )
            count = self.variant_count(workspace=workspace, kind=reminder.kind, channel=channel)
            key = (channel, language, name, variant_index(message_key, count))
            rendered = texts.get(key)
            if rendered is None:
                rendered = texts[key] = self._render_reminder(
                    reminder=reminder,
                    channel=channel,
                    context={**context, "person": person_context},
                    language=language,
                    variant_key=message_key,
                )
            notification = planned_notification(
                reminder=reminder,
                slot=slot,
                purpose="reminder",
                channel=channel,
                recipient=recipient,
                person=person,
                rendered=rendered,
            )
            if reason:
                notification.status = NotificationStatus.SKIPPED
                notification.last_error = reason
            planned.append(PlannedMessage(notification=notification))

        if reminder.audience == Audience.WORKSPACE_CHANNEL:
            # No Slack set up (and no console fallback): the row fails visibly with "channel_not_configured".
            if not reminder.channels or Channel.SLACK in reminder.channels:
                recipient = slack_recipient(configs.get(Channel.SLACK)) or WEBHOOK_RECIPIENT
                add(channel=Channel.SLACK, recipient=recipient, person=None)
            for channel in chat_webhook_channels(reminder.channels, configs, configured_only=False):
                add(channel=channel, recipient=WEBHOOK_RECIPIENT, person=None)
            return planned

        for person in self.audiences.get(reminder.pk, []):
            route = route_person(person, reminder.channels or [], configs)
            if route.address:
                add(channel=route.channel, recipient=route.address, person=person)
            else:
                add(channel=route.channel, recipient=skip_recipient(person), person=person, reason=route.reason)
        return planned

    def _render_reminder(
        self, *, reminder: Reminder, channel: str, context: dict, language: str, variant_key: str
    ) -> Rendered:
        """The kind's template (the workspace's variant or the shipped one ``variant_key`` chooses) with the
        reminder's text as ``{{ message }}``.

        The reminder's own text (``Reminder.message``, the API's ``template``) is itself a
        sandboxed template over the same data.
        """
        workspace = reminder.workspace
        context = {"workspace": {"name": workspace.name}, **context, "message": ""}
        text = reminder.message
        if text:
            # The admin's text is already in the channel's markup (its data escaped): not escaped again.
            try:
                context["message"] = ChannelText(
                    render_source(subject="", body=text, channel=channel, context=context, language=language).body
                )
            except TemplateLimitExceeded as exc:
                return Rendered.limit_exceeded(exc)
            except TemplateRenderError:
                logger.warning("reminder text failed to render; sending it as written", exc_info=True)
                context["message"] = ChannelText(text)
        return self.render(
            workspace=workspace,
            kind=reminder.kind,
            channel=channel,
            context=context,
            language=language,
            variant_key=variant_key,
        )


def _when(local: datetime, *, all_day: bool):
    day = day_text(local.date())
    return day if all_day else format_lazy("{}, {:%H:%M}", day, local)


def _event_context(event, occurrence: EventOccurrence | None, tz: ZoneInfo) -> dict:
    data = {"title": event.title, "kind": event.kind, "location": event.location, "all_day": event.all_day}
    if occurrence is not None:
        data |= {
            "when": _when(occurrence.local, all_day=occurrence.all_day),
            "date": occurrence.local.date().isoformat(),
            "time": None if occurrence.all_day else f"{occurrence.local:%H:%M}",
            "starts_at": occurrence.starts_at.isoformat(),
        }
    return data
