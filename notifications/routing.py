"""How a person is reached: the channel and address a message to them goes to, or why none.

Used by everything that writes a message to a person — the scheduler's plans (reminders,
greetings) and the events' invitations and notices. Reads the person and the workspace's
active channel configs (passed in), never the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from notifications.models import ChannelConfig
from workspaces.models import Channel, Person

# Who a reminder without its own channel list tries after the person's preferences.
FALLBACK_ORDER = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.SLACK)


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
        if person.slack_user_id and ((config and config.has_bot) or (config is None and fallback)):
            return person.slack_user_id
    return None


def person_destination(person: Person, configs: dict[str, ChannelConfig]) -> tuple[str, str] | None:
    """``(channel, address)`` on the person's own preferred channels (email if they chose none), or None.

    For messages about the person themselves: personal greetings, event invitations and updates.
    """
    route = route_person(person, person.preferred_channels or [Channel.EMAIL], configs)
    return (route.channel, route.address) if route.address else None
