"""Personal tokens of the events app: only their SHA-256 is stored."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from django.utils import timezone as dj_timezone

from birthdaybuddy.tokens import hash_token
from events.models import Attendee

# What a personal token looks like (``secrets.token_urlsafe(32)`` and earlier lengths).
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,128}")


def attendee_rsvp_token_issue(*, attendee: Attendee, now: datetime | None = None) -> str:
    """A new personal RSVP token for ``attendee`` (replacing any earlier one); only its hash is kept.

    Called by whoever writes the invitation message, inside that transaction.
    """
    token = secrets.token_urlsafe(32)
    Attendee.objects.filter(pk=attendee.pk).update(
        rsvp_token_hash=hash_token(token), invited_at=now or dj_timezone.now()
    )
    attendee.rsvp_token_hash = hash_token(token)
    return token
