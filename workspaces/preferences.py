"""The preferences link every message to a person carries: signed, revocable, single-purpose.

The token is an HMAC (``SECRET_KEY``) of the person's id and their ``preferences_key``; nothing
of it is stored, it is recomputed and compared in constant time. Giving the person a new
``preferences_key`` (:func:`workspaces.services.person_preferences_links_revoke`) makes every
link sent so far stop working. The link opens one person's preferences, nothing else.
"""

from __future__ import annotations

import base64
import uuid

from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from audit import entries as audit
from birthdaybuddy.links import absolute_reverse
from workspaces import services
from workspaces.models import Channel, Person

REVOKE_OPERATION = "person.preferences_links_revoke"

_SALT = "workspaces.Person.preferences"


def preferences_token(person: Person) -> str:
    digest = salted_hmac(_SALT, f"{person.pk}:{person.preferences_key}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def preferences_url(person: Person) -> str:
    return absolute_reverse("preferences", kwargs={"person_id": person.pk, "token": preferences_token(person)})


def unsubscribe_url(person: Person, channel: str = Channel.EMAIL) -> str:
    """The one-click URL (RFC 8058) for ``List-Unsubscribe``: a POST to it opts the person out of ``channel``."""
    return absolute_reverse(
        "preferences-unsubscribe",
        kwargs={"person_id": person.pk, "token": preferences_token(person)},
        query={"channel": channel},
    )


def preferences_links_revoke(*, person: Person, actor, origin: str | None = None) -> Person:
    """Makes every preferences link sent to ``person`` stop working, recorded in the audit trail.

    For a workspace admin (the API) or staff (the admin, ``origin`` ``admin``) who learned that a
    link reached the wrong hands: a forwarded email, a shared phone. The person's next messages
    carry a new link.
    """
    with transaction.atomic():
        person = services.person_preferences_links_revoke(person=person)
        audit.audit_manual_send(
            workspace=person.workspace, actor=actor, action=REVOKE_OPERATION, target=person, origin=origin
        )
    return person


def person_for_preferences_token(*, person_id: uuid.UUID, token: str) -> Person | None:
    """The person a preferences link opens, or None (unknown person, altered or revoked link)."""
    if not isinstance(token, str) or len(token) != 43:
        return None
    person = Person.objects.select_related("workspace").filter(pk=person_id).first()
    if person is None or not constant_time_compare(preferences_token(person), token):
        return None
    return person


def reachable_channels(person: Person) -> list[tuple[str, str]]:
    """``(channel, address shown)`` for each channel the person has an address for, or opted out of."""
    addresses = {
        Channel.EMAIL: person.email,
        Channel.SMS: person.phone,
        Channel.WHATSAPP: person.phone,
        Channel.SLACK: "Slack" if person.slack_user_id else "",
    }
    opted_out = set(person.opted_out_channels or [])
    return [(channel, address) for channel, address in addresses.items() if address or channel in opted_out]
