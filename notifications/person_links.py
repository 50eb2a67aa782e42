"""Links a message to a person carries beside its text, and what the email provider derives from them.

Every message written for a person ends with their preferences link (a signed, revocable link
to the page where they choose channels or unsubscribe, ``workspaces.preferences``). The email
provider finds that link in the text it is given (it sees only the text, never the database)
and turns it into ``List-Unsubscribe`` with RFC 8058's one-click POST; an RSVP link in the text
becomes Going / Maybe / Can't go buttons in the HTML part.
"""

from __future__ import annotations

import re
from functools import lru_cache

from django.utils import translation
from django.utils.translation import gettext

from birthdaybuddy.i18n import language_of
from birthdaybuddy.links import public_base_url
from workspaces.models import Channel, Person
from workspaces.preferences import preferences_token

PREFERENCES_RE = re.compile(r"https?://[^\s<>\"]+/preferences/[0-9a-f-]{36}/[A-Za-z0-9_-]{43}")
RSVP_RE = re.compile(r"https?://[^\s<>\"]+/rsvp/[A-Za-z0-9_-]{20,128}")


@lru_cache(maxsize=16)
def _label(language: str, channel: str) -> str:
    with translation.override(language):
        if channel == Channel.SMS:
            return gettext("Stop or change messages:")
        return gettext("Your message preferences, or unsubscribe:")


def with_preferences_link(*, body: str, person: Person | None, channel: str, workspace=None) -> str:
    """``body`` followed by the person's preferences link (unchanged without a person)."""
    if person is None or not person.pk:
        return body
    url = f"{public_base_url()}/preferences/{person.pk}/{preferences_token(person)}"
    label = _label(language_of(person=person, workspace=workspace or person.workspace), channel)
    separator = "\n" if channel == Channel.SMS else "\n\n— "
    return f"{body}{separator}{label} {url}"


def unsubscribe_headers(body: str) -> dict[str, str]:
    """``List-Unsubscribe`` (+ RFC 8058 one-click) for an email whose text carries a preferences link."""
    match = PREFERENCES_RE.search(body or "")
    if match is None:
        return {}
    return {
        "List-Unsubscribe": f"<{match.group(0)}/unsubscribe?channel=email>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def rsvp_link(body: str) -> str | None:
    match = RSVP_RE.search(body or "")
    return match.group(0) if match else None
