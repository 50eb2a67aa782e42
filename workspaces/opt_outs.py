"""A phone number's STOP and START, applied to the people who have it (Twilio's keywords).

The notifications app receives the keyword and decides in which workspaces it counts (those
sending from the number it was sent to); the people change here, through this service.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from workspaces.models import Person


def _apply(person: Person, *, channel: str, opted_out: bool) -> bool:
    opted = list(person.opted_out_channels or [])
    preferred = list(person.preferred_channels or [])
    if opted_out:
        if channel in opted:
            return False
        opted.append(channel)
        # A channel may not be both preferred and opted out (workspaces.models.validate_channels).
        preferred = [item for item in preferred if item != channel]
    else:
        if channel not in opted:
            return False
        opted = [item for item in opted if item != channel]
    person.opted_out_channels = opted
    person.preferred_channels = preferred
    person.save(update_fields=["opted_out_channels", "preferred_channels", "updated_at"])
    return True


@transaction.atomic
def people_channel_opt_out_set(*, workspace_ids: Iterable, phone: str, channel: str, opted_out: bool) -> int:
    """Every person with ``phone`` in those workspaces opts out of ``channel`` (STOP: also no longer
    preferred) or back in (START). Returns how many people changed; a repeat changes nobody."""
    people = Person.objects.select_for_update().filter(workspace_id__in=list(workspace_ids), phone=phone)
    return sum(_apply(person, channel=channel, opted_out=opted_out) for person in people.order_by("pk"))
