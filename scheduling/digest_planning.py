"""A digest occurrence's messages, planned from what the :class:`~scheduling.planning.Planner`
read for its batch (it reads nothing itself).

The team's post on Slack (Block Kit, one post or a thread: ``slack_digest.py``) and on the team
chats (Microsoft Teams, Google Chat) names the public celebrations; the email digest goes to the
members, never to the people celebrated that day (surprise-safe); then each celebrated person's
greeting (``recipients.plan_greetings``), except those left to their own time (``own_time.py``).
The advance alerts and group cards planned with the digest are ``alerts.py``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from birthdaybuddy.i18n import language_of
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from notifications.models import Notification
from notifications.rendering import Rendered
from notifications.variants import variant_index
from reminders.models import Reminder
from scheduling.own_time import without_pending
from scheduling.planned import WEBHOOK_RECIPIENT, PlannedMessage, idempotency_key, planned_notification
from scheduling.recipients import chat_webhook_channels, plan_greetings, slack_recipient, wants
from scheduling.slack_digest import plan_slack_digest
from workspaces.models import Channel, Person

if TYPE_CHECKING:
    from scheduling.planning import Planner


def plan_digest(planner: Planner, *, reminder: Reminder, slot: Slot) -> list[PlannedMessage]:
    """The messages of a digest occurrence (``exists`` not yet known: see ``planned.mark_existing``)."""
    workspace = reminder.workspace
    celebrations = planner.celebrations[(workspace.pk, slot.local_date)]
    if not celebrations:
        return []
    configs = planner.configs.get(workspace.pk, {})
    channels = reminder.channels or [Channel.SLACK, Channel.EMAIL]
    planned: list[PlannedMessage] = []

    def add(
        *,
        purpose: str,
        channel: str,
        recipient: str,
        kind: str,
        context: dict | None = None,
        person: Person | None = None,
        rendered: Rendered | None = None,
    ) -> Notification:
        key = idempotency_key(reminder=reminder, slot=slot, purpose=purpose, channel=channel, recipient=recipient)
        if rendered is None:
            language = language_of(person=person, workspace=workspace) if person is not None else None
            rendered = planner.render(
                workspace=workspace,
                kind=kind,
                channel=channel,
                context=context or {},
                language=language,
                variant_key=key,
            )
        notification = planned_notification(
            reminder=reminder,
            slot=slot,
            purpose=purpose,
            channel=channel,
            recipient=recipient,
            person=person,
            rendered=rendered,
            key=key,
        )
        planned.append(PlannedMessage(notification=notification))
        return notification

    if Channel.SLACK in channels and celebrations.public:
        recipient = slack_recipient(configs.get(Channel.SLACK))
        if recipient:
            # Block Kit, one post or a thread by the channel's setting: ``slack_digest.py``.
            plan_slack_digest(
                workspace=workspace,
                kind=reminder.kind,
                celebrations=celebrations,
                config=configs.get(Channel.SLACK),
                recipient=recipient,
                render=lambda context: planner.render(
                    workspace=workspace,
                    kind=reminder.kind,
                    channel=Channel.SLACK,
                    context=context,
                    variant_key=idempotency_key(
                        reminder=reminder, slot=slot, purpose="digest", channel=Channel.SLACK, recipient=recipient
                    ),
                ),
                has_override=bool(planner.overrides.get((workspace.pk, reminder.kind, Channel.SLACK))),
                add=add,
            )

    chats = chat_webhook_channels(reminder.channels, configs, configured_only=True)
    if chats and celebrations.public:
        # Plain names (mentions=False): Teams and Google Chat get no user ids from us.
        chat_context = celebrations.context(workspace=workspace, mentions=False)
        for channel in chats:
            add(
                purpose="digest",
                channel=channel,
                recipient=WEBHOOK_RECIPIENT,
                kind=reminder.kind,
                context=chat_context,
            )

    if Channel.EMAIL in channels and celebrations.public:
        # Surprise-safe: the people celebrated that day get their greeting, not the team's digest.
        celebrated = {person.pk for person in celebrations.people}
        members = [
            p
            for p in planner.members.get(workspace.pk, [])
            if p.email and wants(p, Channel.EMAIL) and p.pk not in celebrated
        ]
        if members:
            context = celebrations.context(workspace=workspace, mentions=False)
            # Members reading one language whose keys choose one variant get the same text:
            # render it once per language and variant.
            texts: dict[tuple[str, int], Rendered] = {}
            count = planner.variant_count(workspace=workspace, kind=reminder.kind, channel=Channel.EMAIL)
            for person in members:
                language = language_of(person=person, workspace=workspace)
                key = idempotency_key(
                    reminder=reminder, slot=slot, purpose="digest", channel=Channel.EMAIL, recipient=person.email
                )
                text_key = (language, variant_index(key, count))
                if text_key not in texts:
                    texts[text_key] = planner.render(
                        workspace=workspace,
                        kind=reminder.kind,
                        channel=Channel.EMAIL,
                        context=context,
                        language=language,
                        variant_key=key,
                    )
                rendered = texts[text_key]
                add(
                    purpose="digest",
                    channel=Channel.EMAIL,
                    recipient=person.email,
                    kind=reminder.kind,
                    context=context,
                    person=person,
                    rendered=rendered,
                )

    # A private celebration is a greeting and nothing else: it is sent even when the
    # digest's personal greetings are off (which then only leaves out the public ones').
    plan_greetings(
        workspace=workspace,
        celebrations=without_pending(celebrations, planner.pending),
        configs=configs,
        add=add,
        private_only=not reminder.personal_greetings,
    )
    return planned
