"""Links a message to a person carries beside its text, and what the email provider derives from them.

Every message written for a person ends with their preferences link (a signed, revocable link
to the page where they choose channels or unsubscribe, ``workspaces.preferences``). The link is
also stored on the notification (``preferences_url``, and ``rsvp_url`` for an invitation) and
handed to the provider with the text: email turns it into ``List-Unsubscribe`` with RFC 8058's
one-click POST, and an RSVP link into Going / Maybe / Can't go buttons in the HTML part.
"""

from __future__ import annotations

from functools import lru_cache

from django.utils import translation
from django.utils.translation import gettext

from birthdaybuddy.i18n import language_of
from birthdaybuddy.links import public_base_url
from workspaces.models import Channel, Person
from workspaces.preferences import preferences_token


@lru_cache(maxsize=16)
def _label(language: str, channel: str) -> str:
    with translation.override(language):
        if channel == Channel.SMS:
            return gettext("Stop or change messages:")
        return gettext("Your message preferences, or unsubscribe:")


def preferences_url(person: Person | None) -> str:
    """The person's preferences page (empty without a saved person)."""
    if person is None or not person.pk:
        return ""
    return f"{public_base_url()}/preferences/{person.pk}/{preferences_token(person)}"


def with_preferences_link(*, body: str, person: Person | None, channel: str, workspace=None, url: str = "") -> str:
    """``body`` followed by the person's preferences link (``url``, else built; unchanged without a person)."""
    url = url or preferences_url(person)
    if not url:
        return body
    label = _label(language_of(person=person, workspace=workspace or person.workspace), channel)
    separator = "\n" if channel == Channel.SMS else "\n\n— "
    return f"{body}{separator}{label} {url}"


def unsubscribe_headers(preferences: str) -> dict[str, str]:
    """``List-Unsubscribe`` (+ RFC 8058 one-click) for an email to a person with this preferences link."""
    if not preferences:
        return {}
    return {
        "List-Unsubscribe": f"<{preferences}/unsubscribe?channel=email>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
