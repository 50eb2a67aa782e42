"""A gathering's guests: places and the waitlist, +1s, check-in at the door, the guest list.

Places: a guest who says yes takes ``1 + plus_ones`` places. With a ``capacity``, a yes that
does not fit goes to the **waitlist** (``seat = waitlisted``, ordered by ``waitlisted_at``: the
order of the answers). When places free up (a guest declines, lowers their +1s, the capacity
grows, an offer lapses), the waitlist is promoted **in order**: the first waiting guest is
offered a place (``seat = offered``) until ``offer_expires_at`` (``offer_hours`` later, at the
latest the event's start), and is told on their channel through the outbox in the same
transaction. A later guest never jumps an earlier one who does not fit yet. The guest
confirms by answering yes again; an offer not confirmed in time lapses (the guest's answer goes
back to "not answered" and the place goes to the next), checked whenever the event's answers
change (``offers_expire``) and, for every event, by the periodic job (``offers_expire_due``).

Every function here runs inside the caller's transaction, with the event row locked
(``SELECT … FOR UPDATE``), so two answers to one event never both take the last place.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone as dj_timezone

from birthdaybuddy.errors import ApplicationError, Conflict
from events import messages
from events.models import Attendee, Event, EventStatus, GuestList, Rsvp, Seat
from events.validation import field_error

logger = logging.getLogger(__name__)

MAX_PLUS_ONES = 10
PLUS_ONE_NAME_MAX = 100


def places_taken(event: Event, *, excluding: Attendee | None = None) -> int:
    """Places held by guests going or offered a place (+1s included)."""
    rows = Attendee.objects.filter(event=event, seat__in=(Seat.GOING, Seat.OFFERED))
    if excluding is not None:
        rows = rows.exclude(pk=excluding.pk)
    total = rows.aggregate(n=Count("pk"), plus=Sum("plus_ones"))
    return (total["n"] or 0) + (total["plus"] or 0)


def fits(event: Event, *, places: int, excluding: Attendee | None = None) -> bool:
    return event.capacity is None or places_taken(event, excluding=excluding) + places <= event.capacity


def offer_deadline(event: Event, *, now: datetime) -> datetime:
    until = now + timedelta(hours=event.offer_hours)
    if event.starts_at is not None and event.starts_at > now:
        until = min(until, event.starts_at)
    return until


def waitlist_promote(*, event: Event, now: datetime) -> list[Attendee]:
    """Offers freed places to the waitlist in answer order; each promoted guest is told. Returns them."""
    promoted = []
    waiting = Attendee.objects.select_related("person").filter(event=event, seat=Seat.WAITLISTED)
    for attendee in waiting.order_by("waitlisted_at", "created_at", "id"):
        if not fits(event, places=attendee.places):
            break
        attendee.seat = Seat.OFFERED
        attendee.offer_expires_at = offer_deadline(event, now=now)
        attendee.save(update_fields=["seat", "offer_expires_at"])
        messages.waitlist_offer_write(event=event, attendee=attendee, now=now)
        promoted.append(attendee)
        logger.info("event %s: attendee %s offered a place from the waitlist", event.pk, attendee.pk)
    return promoted


def offers_expire(*, event: Event, now: datetime) -> int:
    """Lapses offers not confirmed in time (the guest is back to "not answered"), then promotes the next."""
    lapsed = Attendee.objects.filter(event=event, seat=Seat.OFFERED, offer_expires_at__lte=now).update(
        seat=Seat.NONE, answer=Rsvp.PENDING, waitlisted_at=None, offer_expires_at=None
    )
    if lapsed:
        logger.info("event %s: %d waitlist offer(s) lapsed", event.pk, lapsed)
        waitlist_promote(event=event, now=now)
    return lapsed


def offers_expire_due(*, now: datetime | None = None) -> int:
    """Lapses every offer whose time is up, in every event, and promotes the next guests.

    The periodic job (``events.expire_offers``) runs it, so an offer lapses on time even when
    nobody answers. Each event is handled in its own transaction under its row lock (the lock
    the answers take): a run beside another, or beside an answer, lapses an offer and offers its
    place once, and the offer's message key is unique. Cancelled events are left alone.
    """
    now = now or dj_timezone.now()
    event_ids = list(
        Attendee.objects.filter(seat=Seat.OFFERED, offer_expires_at__lte=now)
        .order_by()
        .values_list("event_id", flat=True)
        .distinct()
    )
    lapsed = 0
    for event_id in event_ids:
        with transaction.atomic():
            event = (
                Event.objects.select_for_update(of=("self",))
                .select_related("workspace")
                .filter(pk=event_id)
                .exclude(status=EventStatus.CANCELLED)
                .first()
            )
            if event is not None:
                lapsed += offers_expire(event=event, now=now)
    return lapsed


def seat_answer(*, event: Event, attendee: Attendee, answer: str, plus_ones: int, now: datetime) -> None:
    """Sets the attendee's seat for ``answer`` (not saved); raises ``Conflict`` (``event_full``) when a
    guest already going asks for more places than are left. A new yes that does not fit waits."""
    if answer != Rsvp.YES:
        attendee.seat, attendee.waitlisted_at, attendee.offer_expires_at = Seat.NONE, None, None
        return
    places = 1 + plus_ones
    if attendee.seat == Seat.GOING or attendee.seat == Seat.OFFERED:
        if not fits(event, places=places, excluding=attendee):
            raise Conflict(
                f"Only {max(event.capacity or 0, 0) - places_taken(event, excluding=attendee)} place(s) are left "
                "for you and your +1s; nothing was changed.",
                code="event_full",
            )
        attendee.seat, attendee.offer_expires_at = Seat.GOING, None
        return
    if attendee.seat == Seat.WAITLISTED:
        return
    if fits(event, places=places, excluding=attendee):
        attendee.seat = Seat.GOING
    else:
        attendee.seat, attendee.waitlisted_at = Seat.WAITLISTED, now


def waitlist_position(attendee: Attendee) -> int | None:
    """1 for the first guest waiting; None when not waiting."""
    if attendee.seat != Seat.WAITLISTED or attendee.waitlisted_at is None:
        return None
    ahead = Attendee.objects.filter(event_id=attendee.event_id, seat=Seat.WAITLISTED).filter(
        Q(waitlisted_at__lt=attendee.waitlisted_at)
        | Q(waitlisted_at=attendee.waitlisted_at, created_at__lt=attendee.created_at)
        | Q(waitlisted_at=attendee.waitlisted_at, created_at=attendee.created_at, id__lt=attendee.id)
    )
    return ahead.count() + 1


def clean_plus_ones(*, event: Event, plus_ones, names) -> tuple[int, list[str]]:
    """The +1s asked for, checked against the event's limit; raises ``ValidationError`` naming the field."""
    if isinstance(plus_ones, bool) or not isinstance(plus_ones, int) or plus_ones < 0:
        raise field_error("plus_ones", "A whole number, 0 or more.", "invalid")
    if plus_ones > event.plus_ones_allowed:
        raise field_error("plus_ones", f"At most {event.plus_ones_allowed} +1(s) for this event.", "too_many_plus_ones")
    names = names or []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise field_error("plus_one_names", "A list of names.", "invalid")
    names = [name.strip() for name in names if name.strip()]
    if len(names) > plus_ones:
        raise field_error("plus_one_names", "More names than +1s.", "too_many_names")
    if any(len(name) > PLUS_ONE_NAME_MAX for name in names):
        raise field_error("plus_one_names", f"A name has at most {PLUS_ONE_NAME_MAX} characters.", "too_long")
    return plus_ones, names


# --- the organiser's side ---------------------------------------------------------------------


@transaction.atomic
def attendee_check_in(*, event: Event, person_id, checked_in: bool, now: datetime | None = None) -> Attendee:
    """Marks a guest as arrived at the door (or undoes it). 404 ``not_an_attendee``; 409 ``event_cancelled``."""
    now = now or dj_timezone.now()
    event = Event.objects.select_for_update(of=("self",)).get(pk=event.pk)
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")
    attendee = (
        Attendee.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(event=event, person_id=person_id)
        .first()
    )
    if attendee is None:
        raise ApplicationError("This person is not an attendee of this event.", code="not_an_attendee", status=404)
    attendee.checked_in_at = now if checked_in else None
    attendee.save(update_fields=["checked_in_at"])
    return attendee


@dataclass(frozen=True)
class GuestCounts:
    going: int
    going_places: int
    maybe: int
    declined: int
    pending: int
    waitlisted: int
    offered: int
    checked_in: int


def guest_counts(event: Event) -> GuestCounts:
    """The counts of the guest list, in one query."""
    row = Attendee.objects.filter(event=event).aggregate(
        going=Count("pk", filter=Q(seat=Seat.GOING)),
        going_plus=Sum("plus_ones", filter=Q(seat=Seat.GOING)),
        maybe=Count("pk", filter=Q(answer=Rsvp.MAYBE)),
        declined=Count("pk", filter=Q(answer=Rsvp.NO)),
        pending=Count("pk", filter=Q(answer=Rsvp.PENDING)),
        waitlisted=Count("pk", filter=Q(seat=Seat.WAITLISTED)),
        offered=Count("pk", filter=Q(seat=Seat.OFFERED)),
        checked_in=Count("pk", filter=Q(checked_in_at__isnull=False)),
    )
    return GuestCounts(
        going=row["going"],
        going_places=row["going"] + (row["going_plus"] or 0),
        maybe=row["maybe"],
        declined=row["declined"],
        pending=row["pending"],
        waitlisted=row["waitlisted"],
        offered=row["offered"],
        checked_in=row["checked_in"],
    )


def guest_list_for_guest(event: Event) -> dict | None:
    """What one guest sees of the others, as the organiser chose: nothing, counts, or the names of those going."""
    if event.guest_list == GuestList.HIDDEN:
        return None
    counts = guest_counts(event)
    shown: dict = {"going": counts.going_places, "maybe": counts.maybe, "waitlisted": counts.waitlisted}
    if event.guest_list == GuestList.NAMES:
        rows = (
            Attendee.objects.filter(event=event, seat=Seat.GOING)
            .order_by("person__name", "id")
            .values_list("person__name", "plus_ones")
        )
        shown["names"] = [{"name": name, "plus_ones": plus} for name, plus in rows]
    return shown


def guest_rows(event: Event):
    """The whole guest list for the organisers, in one query (ordered by name)."""
    return Attendee.objects.filter(event=event).select_related("person").order_by("person__name", "id")


CSV_COLUMNS = (
    "name",
    "email",
    "answer",
    "seat",
    "plus_ones",
    "plus_one_names",
    "note",
    "responded_at",
    "checked_in_at",
)


def guest_list_csv(event: Event) -> str:
    """The guest list as CSV (UTF-8, a header row); cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for attendee in guest_rows(event):
        writer.writerow(
            [
                _cell(attendee.person.name),
                _cell(attendee.person.email or ""),
                attendee.answer,
                attendee.seat or "",
                attendee.plus_ones,
                _cell("; ".join(attendee.plus_one_names or [])),
                _cell(attendee.note),
                attendee.responded_at.isoformat() if attendee.responded_at else "",
                attendee.checked_in_at.isoformat() if attendee.checked_in_at else "",
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """A text cell a spreadsheet will not evaluate (OWASP CSV injection)."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
