"""Who receives a message, and on which channel.

Routing of event, one-time and recurring reminders: each recipient gets the message on the
first of the reminder's ``channels`` (its order of preference) that they have not opted
out of and that reaches them (an email address, a phone number with SMS/WhatsApp set up, a
Slack id with a bot token). A reminder without channels follows each person's own
``preferred_channels``, then email, SMS, WhatsApp, Slack. A recipient no channel reaches
still gets a row, ``skipped`` with the reason, so nobody is dropped silently.

The digest goes to the workspace's Slack channel (the bot's channel, or the webhook), to its
Microsoft Teams and Google Chat channels (:func:`chat_webhook_channels`) and by email to the
members who want it; personal greetings reach each celebrating person on their own channel
(``notifications.routing.person_destination``). A private celebration is greeted whatever the
digest's ``personal_greetings`` says: being greeted in private is all "private" means, and the
setting is about the greetings that accompany the team's post.
"""

from __future__ import annotations

from django.conf import settings

from notifications.models import ChannelConfig
from notifications.routing import person_destination
from scheduling.digest import Celebrations
from scheduling.planned import WEBHOOK_RECIPIENT
from workspaces.models import CHAT_WEBHOOK_CHANNELS, Channel, Person


def slack_recipient(config: ChannelConfig | None) -> str | None:
    if config is not None:
        return config.channel_id if config.has_bot and config.channel_id else WEBHOOK_RECIPIENT
    if settings.NOTIFICATIONS_CONSOLE_FALLBACK:
        return WEBHOOK_RECIPIENT
    return None


def chat_webhook_channels(
    channels: list[str] | None, configs: dict[str, ChannelConfig], *, configured_only: bool
) -> list[str]:
    """The Teams / Google Chat channels a team post goes to.

    The ones ``channels`` names (a reminder naming none: every one). The digest
    (``configured_only``) posts only where the workspace has an active config, so its default
    list can name every team chat and a workspace that connects Teams gets its digest there;
    a workspace-channel reminder posts to each one it names, and one without a config fails
    visibly (``channel_not_configured``) instead of being dropped.
    """
    named = [channel for channel in CHAT_WEBHOOK_CHANNELS if not channels or channel in channels]
    if configured_only or not channels:
        return [channel for channel in named if channel in configs]
    return named


def wants(person: Person, channel: str) -> bool:
    return channel in (person.preferred_channels or []) and channel not in (person.opted_out_channels or [])


def plan_greetings(
    *, workspace, celebrations: Celebrations, configs: dict[str, ChannelConfig], add, private_only: bool = False
) -> None:
    """Each celebrating person's own greeting (``private_only``: only the private celebrations')."""
    for celebration in (*celebrations.birthdays, *celebrations.anniversaries):
        if private_only and not celebration.private:
            continue
        person = celebration.person
        destination = person_destination(person, configs)
        if destination is None:
            continue
        channel, recipient = destination
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
            kind="milestone" if celebration.milestone else "personal_greeting",
            context=context,
            person=person,
        )


def skip_recipient(person: Person) -> str:
    return person.email or person.phone or person.slack_user_id or f"person:{person.pk}"
