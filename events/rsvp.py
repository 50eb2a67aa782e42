"""RSVP: a guest's personal link, their answer, and re-sending their invitation.

The guest identity is the RSVP token: ``guest_resolve`` turns it into the ``Attendee``
(with its event, workspace and person), which every guest-facing page and API uses.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone as dj_timezone

from audit.entries import audit_manual_send
from birthdaybuddy.errors import ApplicationError, Conflict
from birthdaybuddy.timerules.occurrences import event_occurrences
from birthdaybuddy.timerules.recurrence import local_to_utc
from birthdaybuddy.tokens import hash_token
from events import guests, messages
from events.models import Attendee, Event, EventKind, Rsvp, Seat
from events.tokens import TOKEN_RE
from events.validation import field_error, workspace_zone

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def _attendee_for_token(token: str, *, lock: bool = False) -> Attendee:
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        raise ApplicationError("This RSVP link is not valid.", code="not_found", status=404)
    queryset = Attendee.objects.select_related("event", "event__workspace", "person")
    if lock:
        queryset = queryset.select_for_update(of=("self", "event"))
    attendee = queryset.filter(rsvp_token_hash=hash_token(token)).first()
    if attendee is None:
        raise ApplicationError("This RSVP link is not valid.", code="not_found", status=404)
    return attendee


def guest_resolve(*, token: str, lock: bool = False) -> Attendee:
    """The guest a personal RSVP link belongs to: their ``Attendee`` (event, workspace and person loaded).

    The one way to turn a guest link into an identity (other apps' guest pages use it).
    404 ``not_found`` for an unknown or malformed token (a rotated link, a removed attendee);
    410 ``event_cancelled`` for a cancelled event. A finished event still resolves (what
    happens after a party: photos, costs); answering checks more (``rsvp_answer``).
    ``lock`` takes the attendee and event rows ``FOR UPDATE`` (inside a transaction).
    """
    attendee = _attendee_for_token(token, lock=lock)
    if attendee.event.is_cancelled:
        raise ApplicationError("This event was cancelled.", code="event_cancelled", status=410)
    return attendee


def event_is_over(event: Event, *, now: datetime) -> bool:
    """A one-off event whose end (or start, or local day) has passed; recurring events never are."""
    if event.rrule:
        return False
    if event.all_day and event.date is not None:
        tz = workspace_zone(event.workspace)
        return local_to_utc(datetime.combine(event.date + timedelta(days=1), time()), tz) <= now
    end = event.ends_at or event.starts_at
    return end is not None and end <= now


def answers_closed(event: Event, *, now: datetime) -> bool:
    """Answers close when the event starts (an all-day one when its local day does).

    A series stays open while an occurrence is still to start (the answer is for the
    series), so a series with COUNT or UNTIL closes when its last occurrence starts and an
    open-ended one never does.
    """
    tz = workspace_zone(event.workspace)
    if event.rrule:
        return next(event_occurrences(event, tz=tz, after=now), None) is None
    if event.all_day:
        return event.date is not None and local_to_utc(datetime.combine(event.date, time()), tz) <= now
    return event.starts_at is not None and event.starts_at <= now


def deadline_passed(attendee: Attendee, *, now: datetime) -> bool:
    """The event's RSVP deadline has passed for this guest (a guest offered a place has their own)."""
    deadline = attendee.event.rsvp_deadline
    return deadline is not None and now >= deadline and attendee.seat != Seat.OFFERED


def answers_closed_for(attendee: Attendee, *, now: datetime) -> bool:
    """This guest can no longer answer: the event was cancelled, started or is over, or the deadline passed."""
    event = attendee.event
    return (
        event.is_cancelled
        or event_is_over(event, now=now)
        or answers_closed(event, now=now)
        or deadline_passed(attendee, now=now)
    )


def _require_open_for_rsvp(event: Event, *, now: datetime) -> None:
    _require_not_gone(event, now=now)
    if answers_closed(event, now=now):
        raise Conflict("This event has started; answers can no longer be changed.", code="event_started")


def _require_not_gone(event: Event, *, now: datetime) -> None:
    if event.is_cancelled:
        raise ApplicationError("This event was cancelled.", code="event_cancelled", status=410)
    if event_is_over(event, now=now):
        raise ApplicationError("This event is over.", code="event_over", status=410)


def rsvp_lookup(*, token: str, now: datetime | None = None) -> Attendee:
    """The attendee a token belongs to (404 ``not_found``; 410 ``event_cancelled`` / ``event_over``).

    A started event still shows the invitation (its answers are closed: ``answers_closed``).
    """
    attendee = _attendee_for_token(token)
    _require_not_gone(attendee.event, now=now or dj_timezone.now())
    return attendee


@transaction.atomic
def rsvp_answer(
    *,
    token: str,
    answer: str,
    note: str | None = None,
    plus_ones: int | None = None,
    plus_one_names: list | None = None,
    now: datetime | None = None,
) -> Attendee:
    """Records ``yes``/``no``/``maybe`` (a note, +1s and their names) for the token's attendee.

    A yes takes ``1 + plus_ones`` places; beyond the capacity it joins the waitlist (the
    answer is saved and ``seat`` says ``waitlisted``). A guest offered a place confirms it
    with a yes. A place given up goes to the waitlist (``events.guests``). Nothing is
    written if refused: 400 (``answer``, ``plus_ones``/``plus_one_names``: beyond the event's
    limit), 404 ``not_found``, 410 ``event_cancelled`` / ``event_over``, 409 ``event_started``,
    ``rsvp_deadline_passed`` or ``event_full`` (a guest going asks for more places than are left).
    ``plus_ones``/``plus_one_names`` left out keep the earlier ones.
    """
    now = now or dj_timezone.now()
    if answer not in (Rsvp.YES, Rsvp.NO, Rsvp.MAYBE):
        raise field_error("answer", "Answer yes, no or maybe.", "invalid_choice")
    attendee = _attendee_for_token(token, lock=True)
    event = attendee.event
    _require_open_for_rsvp(event, now=now)
    if guests.offers_expire(event=event, now=now):
        attendee.refresh_from_db(fields=["answer", "seat", "waitlisted_at", "offer_expires_at"])
    if deadline_passed(attendee, now=now):
        raise Conflict("The deadline for answers has passed; nothing was changed.", code="rsvp_deadline_passed")
    if answer != Rsvp.YES:
        plus_ones, plus_one_names = 0, []
    wanted_plus = attendee.plus_ones if plus_ones is None else plus_ones
    wanted_names = list(attendee.plus_one_names or []) if plus_one_names is None else plus_one_names
    if plus_ones is not None or plus_one_names is not None:
        wanted_plus, wanted_names = guests.clean_plus_ones(event=event, plus_ones=wanted_plus, names=wanted_names)
    guests.seat_answer(event=event, attendee=attendee, answer=answer, plus_ones=wanted_plus, now=now)
    attendee.answer = answer
    attendee.plus_ones, attendee.plus_one_names = wanted_plus, wanted_names
    if note is not None:
        attendee.note = note.strip()
    attendee.responded_at = now
    attendee.save(
        update_fields=[
            "answer",
            "note",
            "responded_at",
            "plus_ones",
            "plus_one_names",
            "seat",
            "waitlisted_at",
            "offer_expires_at",
        ]
    )
    guests.waitlist_promote(event=event, now=now)
    logger.info("attendee %s of event %s answered %s (%s)", attendee.pk, event.pk, answer, attendee.seat or "-")
    return attendee


# --- re-sending an invitation ----------------------------------------------------------------


@transaction.atomic
def attendee_invitation_resend(
    *, event: Event, person_id, actor: User | None, now: datetime | None = None, origin: str | None = None
) -> messages.InvitationSent:
    """Sends one attendee of a gathering their invitation again, with a new personal RSVP link.

    A new notification (the earlier ones stay in the history). The RSVP token is rotated:
    only its hash is stored, so the earlier link cannot be sent again, and an admin re-sends
    mostly because the first message went astray (a wrong address), whose link should then
    stop working. The attendee's answer is kept. Audited as ``event.resend_invitation``.

    404 ``not_an_attendee``; 400 ``not_a_gathering`` (only gatherings have invitations);
    409 ``event_cancelled`` / ``event_over``; 409 ``attendee_unreachable`` (no channel reaches them).
    """
    now = now or dj_timezone.now()
    event = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    attendee = (
        Attendee.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(event=event, person_id=person_id)
        .first()
    )
    if attendee is None:
        raise ApplicationError("This person is not an attendee of this event.", code="not_an_attendee", status=404)
    if event.kind != EventKind.GATHERING:
        raise ApplicationError(
            f"Only gatherings have invitations; this event's kind is {event.kind}.",
            code="not_a_gathering",
        )
    if event.is_cancelled:
        raise Conflict("This event was cancelled; its invitations cannot be sent again.", code="event_cancelled")
    if event_is_over(event, now=now):
        raise Conflict("This event is over; its invitations cannot be sent again.", code="event_over")
    invitation = messages.event_invitation_resend_write(event=event, attendee=attendee, now=now)
    audit_manual_send(
        workspace=event.workspace,
        actor=actor,
        action="event.resend_invitation",
        target=attendee,
        details={
            "event": str(event.pk),
            "person": str(attendee.person_id),
            "notification": str(invitation.notification_id),
            "channel": invitation.channel,
            "recipient": invitation.recipient,
        },
        origin=origin,
    )
    logger.info("event %s: invitation of attendee %s sent again", event.pk, attendee.pk)
    return invitation
