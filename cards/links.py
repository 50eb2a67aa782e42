"""References to a card that travel in messages: the wish page's link and the Slack button's value.

A card is created by its first wish, so a message names the celebration (workspace, person,
kind, day), not a row. The reference is signed with ``SECRET_KEY`` (``django.core.signing``):
the signature is the proof that our alert planner named this celebration, so nobody can
start a card for a person or day of their choosing. The page's link also names the
recipient it was sent to (the wish's author); the Slack button does not (Slack says who
clicked). Nothing is stored: a link stops working when the prep window closes (the day
begins), when its author stops being a teammate, or when the workspace turns cards off.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.core import signing

from birthdaybuddy.links import absolute_reverse

_SALT = "cards.CardRef"


@dataclass(frozen=True, slots=True)
class CardRef:
    workspace_id: uuid.UUID
    person_id: uuid.UUID
    kind: str
    day: date


def card_token(ref: CardRef, *, author_id: uuid.UUID | None = None) -> str:
    data = [str(ref.workspace_id), str(ref.person_id), ref.kind, ref.day.isoformat(), str(author_id or "")]
    return signing.dumps(data, salt=_SALT, compress=True)


def card_ref_from_token(token: str) -> tuple[CardRef, uuid.UUID | None] | None:
    """The reference and author a token names, or None for anything we did not sign."""
    if not isinstance(token, str) or not token or len(token) > 500:
        return None
    try:
        workspace_id, person_id, kind, day, author_id = signing.loads(token, salt=_SALT)
        ref = CardRef(
            workspace_id=uuid.UUID(workspace_id),
            person_id=uuid.UUID(person_id),
            kind=str(kind),
            day=date.fromisoformat(day),
        )
        return ref, uuid.UUID(author_id) if author_id else None
    except (signing.BadSignature, ValueError, TypeError):
        return None


def wish_page_url(ref: CardRef, *, author_id: uuid.UUID) -> str:
    """The page where ``author_id`` writes (and changes) their wish."""
    return absolute_reverse("card-wish", kwargs={"token": card_token(ref, author_id=author_id)})
