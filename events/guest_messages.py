"""The organisers write to a gathering's guests, chosen by their answer, now or at a time.

A message is a one-time reminder (``reminders.services.reminder_create``) to the chosen
guests: it goes through the one pipeline — the tick, quiet hours (a message due inside them
waits for their end), each guest's channel and opt-outs, one notification per guest (unique
idempotency keys) and the notification history. The guests are those with the chosen answers
when the message is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.errors import Conflict
from events.models import Attendee, Event, EventKind, Rsvp, Seat
from events.validation import field_error
from reminders import services as reminder_services

if TYPE_CHECKING:
    from accounts.models import User
    from reminders.models import Reminder

# Who can be written to: by answer, or by place.
GUEST_GROUPS = {
    "pending": Q(answer=Rsvp.PENDING),
    "yes": Q(answer=Rsvp.YES),
    "maybe": Q(answer=Rsvp.MAYBE),
    "no": Q(answer=Rsvp.NO),
    "going": Q(seat=Seat.GOING),
    "waitlisted": Q(seat__in=(Seat.WAITLISTED, Seat.OFFERED)),
}
MESSAGE_MAX = 2000
# The reminder's fields named as this service's input.
FIELDS = {"template": "message", "at": "at", "recipients": "to"}


def guests_message(
    *, event: Event, actor: User | None, to: Any, message: Any, at: datetime | None = None, now: datetime | None = None
) -> tuple[Reminder, int]:
    """Writes ``message`` to the guests in the groups ``to`` (see ``GUEST_GROUPS``), at ``at`` or now.

    Returns the reminder and how many guests it goes to. 400 ``to`` / ``message`` / ``at`` (an
    unknown group, an empty or too long text, a time in the past); 409 ``not_a_gathering``,
    ``event_cancelled``, ``no_recipients`` (nobody in those groups). Nothing is written then.
    """
    now = now or dj_timezone.now()
    if event.kind != EventKind.GATHERING:
        raise Conflict("Only a gathering's guests can be written to here.", code="not_a_gathering")
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")
    if not isinstance(to, list) or not to or any(group not in GUEST_GROUPS for group in to):
        raise field_error("to", f"Choose one or more of {', '.join(GUEST_GROUPS)}.", "invalid_choice")
    if not isinstance(message, str) or not message.strip() or len(message) > MESSAGE_MAX:
        raise field_error("message", f"Write a message of 1 to {MESSAGE_MAX} characters.", "invalid")
    chosen = Q()
    for group in to:
        chosen |= GUEST_GROUPS[group]
    people = list(
        Attendee.objects.filter(event=event)
        .filter(chosen)
        .order_by("created_at", "id")
        .values_list("person_id", flat=True)
    )
    if not people:
        raise Conflict("No guest has those answers yet.", code="no_recipients")
    data = {
        "kind": "one_time",
        "name": f"{event.title}: to guests ({', '.join(to)})"[:100],
        "audience": "people",
        "recipients": people,
        "channels": [],
        "message": message.strip(),
        "message_type": "notice",
        "run_at": at or now,
    }
    try:
        with transaction.atomic():
            reminder = reminder_services.reminder_create(
                workspace=event.workspace, data=data, created_by=actor, now=now
            )
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError({FIELDS.get(name, name): errors for name, errors in exc.error_dict.items()}) from exc
    return reminder, len(people)
