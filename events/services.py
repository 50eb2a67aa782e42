"""The writes of events and their attendees: create, update, cancel (and who may edit).

RSVP answers and invitations are in ``events.rsvp``, calendar feeds in ``events.feeds``,
the validation of an event's values in ``events.validation``.

Services are keyword-only and atomic. Bad values raise Django's ``ValidationError`` (a
message per Event JSON field); business rules raise ``ApplicationError`` subclasses
(``HostConflict`` is a 409 carrying the conflicting event). Changes are announced after
commit with the signals in ``events.signals``; this app never imports who listens.

Times: a naive ``starts_at``/``ends_at`` is wall-clock time in the workspace's zone,
converted as RFC 5545 §3.3.5 does (``local_to_utc_rfc5545``: a time in a spring-forward gap
takes the offset before the gap), so the API, conflict checks, reminders and every calendar
subscribed to the feed agree on the instant; the start's wall time is kept
(``starts_local``) to anchor the RRULE. An aware one is taken as given.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.errors import Conflict
from birthdaybuddy.timerules.occurrences import Span, first_conflict, spans_between
from events import guests, messages, rsvp_reminders, signals, validation
from events.models import HOST_OVERLAP_CONSTRAINT, Attendee, Event, EventKind, EventStatus
from reminders import schedule as reminder_schedule
from workspaces.models import ADMIN_ROLES, Membership, Workspace

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# Recurring appointments are checked for conflicts over this horizon from their first
# upcoming occurrence (and at most CONFLICT_OCCURRENCE_LIMIT occurrences of each event).
CONFLICT_HORIZON = timedelta(days=366)
CONFLICT_OCCURRENCE_LIMIT = 1000


class HostConflict(Conflict):
    """The host already has an active appointment overlapping this one (409 ``host_conflict``)."""

    default_code = "host_conflict"

    def __init__(self, *, event: Event, span: Span):
        super().__init__(
            f"The host already has an appointment at that time: “{event.title}”.",
            extra={"conflict_occurrence": {"starts_at": _iso(span.starts_at), "ends_at": _iso(span.ends_at)}},
        )
        self.event = event
        self.span = span


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


# --- conflicts --------------------------------------------------------------------------------


def _lock_host(*, workspace: Workspace, host_id) -> None:
    """Serialises bookings of one host in one workspace (the membership row is the lock)."""
    list(Membership.objects.select_for_update().filter(workspace=workspace, user_id=host_id).values_list("pk"))


def _conflict_window(*, candidate: Event, now: datetime) -> tuple[datetime, datetime]:
    if not candidate.rrule:
        return candidate.starts_at, candidate.ends_at
    start = max(candidate.starts_at, now)
    return start, start + CONFLICT_HORIZON


def _check_host_conflict(*, candidate: Event, now: datetime) -> None:
    """Raises ``HostConflict`` if the host has another active appointment overlapping ``candidate``.

    One-off appointments are compared exactly; recurring ones over ``CONFLICT_HORIZON`` from
    their first upcoming occurrence. Conflicts are per workspace.
    """
    tz = validation.workspace_zone(candidate.workspace)
    start, end = _conflict_window(candidate=candidate, now=now)
    ours = spans_between(candidate, tz=tz, start=start, end=end, limit=CONFLICT_OCCURRENCE_LIMIT)
    if not ours:
        return
    start, end = ours[0].starts_at, max(span.ends_at for span in ours)
    others = (
        Event.objects.for_workspace(candidate.workspace)
        .active()
        .appointments()
        .hosted_by(candidate.host_id)
        .exclude(pk=candidate.pk)
        .filter(Q(rrule="", starts_at__lt=end, ends_at__gt=start) | (~Q(rrule="") & Q(starts_at__lt=end)))
        .order_by("starts_at", "id")
    )
    tagged = [
        (other, span)
        for other in others
        for span in spans_between(other, tz=tz, start=start, end=end, limit=CONFLICT_OCCURRENCE_LIMIT)
    ]
    found = first_conflict(ours, tagged)
    if found is not None:
        other, their_span, _ = found
        raise HostConflict(event=other, span=their_span)


def _save_appointment_safely(event: Event, **save_kwargs) -> None:
    """Saves; the PostgreSQL exclusion constraint's refusal becomes the same ``HostConflict``."""
    try:
        with transaction.atomic():
            event.save(**save_kwargs)
    except IntegrityError as exc:
        if HOST_OVERLAP_CONSTRAINT not in str(exc):
            raise
        other = (
            Event.objects.for_workspace(event.workspace)
            .active()
            .appointments()
            .hosted_by(event.host_id)
            .exclude(pk=event.pk)
            .filter(starts_at__lt=event.ends_at, ends_at__gt=event.starts_at)
            .order_by("starts_at")
            .first()
        )
        if other is None:
            raise Conflict("The host already has an appointment at that time.", code="host_conflict") from exc
        raise HostConflict(event=other, span=Span(other.starts_at, other.ends_at)) from exc


# --- events -----------------------------------------------------------------------------------


def _announce(signal, **kwargs) -> None:
    def send() -> None:
        for receiver, result in signal.send_robust(sender=Event, **kwargs):
            if isinstance(result, Exception):
                logger.error("event signal receiver %r failed", receiver, exc_info=result)

    transaction.on_commit(send)


def _add_attendees(event: Event, person_ids: Iterable) -> list:
    rows = [Attendee(event=event, person_id=pk) for pk in person_ids]
    Attendee.objects.bulk_create(rows)
    return [row.pk for row in rows]


@transaction.atomic
def event_create(
    *, workspace: Workspace, created_by: User | None, data: Mapping[str, Any], now: datetime | None = None
) -> Event:
    """Creates an event (and its attendees); gatherings' attendees are then invited."""
    now = now or dj_timezone.now()
    values = validation.clean_values(workspace=workspace, event=None, changes=data)
    attendee_ids = values.pop("attendees")
    host_id = values.pop("host")
    cohost_ids = values.pop("cohosts")
    event = Event(workspace=workspace, created_by=created_by, host_id=host_id, created_at=now, **values)
    if event.kind == EventKind.APPOINTMENT:
        _lock_host(workspace=workspace, host_id=host_id)
        _check_host_conflict(candidate=event, now=now)
        _save_appointment_safely(event, force_insert=True)
    else:
        event.save(force_insert=True)
    if cohost_ids:
        event.cohosts.set(cohost_ids)
    new_attendees = _add_attendees(event, attendee_ids)
    if event.kind == EventKind.GATHERING and new_attendees:
        messages.event_invitations_write(event_id=event.pk, attendee_ids=new_attendees)
    rsvp_reminders.rsvp_reminder_sync(event=event, now=now)
    logger.info("event %s created in workspace %s", event.pk, workspace.pk)
    return event


def _require_active(event: Event) -> None:
    if event.is_cancelled:
        raise Conflict("This event was cancelled; it can no longer be changed.", code="event_cancelled")


@transaction.atomic
def event_update(*, event: Event, data: Mapping[str, Any], now: datetime | None = None, notify: bool = True) -> Event:
    """Applies ``data`` (a partial update). Moving or relocating bumps ``sequence``; listeners hear of it.

    ``notify=False`` leaves the change notices to the caller (fixing a poll's date tells every guest).
    """
    now = now or dj_timezone.now()
    event = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    _require_active(event)
    before = validation.current_values(event)
    values = validation.clean_values(workspace=event.workspace, event=event, changes=data)
    changed = frozenset(name for name in validation.EDITABLE_FIELDS if _differs(before[name], values[name], name))
    if not changed:
        return event
    attendee_ids = values.pop("attendees")
    host_id = values.pop("host")
    cohost_ids = values.pop("cohosts")
    for name, value in values.items():
        setattr(event, name, value)
    event.host_id = host_id
    if changed & signals.SCHEDULE_FIELDS:
        event.sequence += 1
    checks_conflicts = event.kind == EventKind.APPOINTMENT and changed & {
        "kind",
        "starts_at",
        "ends_at",
        "rrule",
        "host",
    }
    if checks_conflicts:
        _lock_host(workspace=event.workspace, host_id=host_id)
        _check_host_conflict(candidate=event, now=now)
        _save_appointment_safely(event)
    else:
        event.save()
    if changed & rsvp_reminders.SYNC_FIELDS:
        rsvp_reminders.rsvp_reminder_sync(event=event, now=now)
    reminder_schedule.event_reminders_reschedule(event=event)
    if "cohosts" in changed:
        event.cohosts.set(cohost_ids)
    if changed & {"capacity", "offer_hours"}:
        guests.waitlist_promote(event=event, now=now)
    new_attendees: list = []
    if "attendees" in changed:
        wanted = list(attendee_ids)
        Attendee.objects.filter(event=event).exclude(person_id__in=wanted).delete()
        have = set(Attendee.objects.filter(event=event).values_list("person_id", flat=True))
        new_attendees = _add_attendees(event, [pk for pk in wanted if pk not in have])
    if notify and changed & signals.SCHEDULE_FIELDS:
        messages.event_update_notices_write(event_id=event.pk, changed_fields=changed)
    _announce(signals.event_changed, event=event, changed_fields=changed)
    if event.kind == EventKind.GATHERING:
        to_invite = new_attendees
        if "kind" in changed:
            to_invite = list(Attendee.objects.filter(event=event).values_list("pk", flat=True))
        if to_invite:
            messages.event_invitations_write(event_id=event.pk, attendee_ids=to_invite)
    logger.info("event %s updated: %s", event.pk, ", ".join(sorted(changed)))
    return event


def _differs(old, new, name: str) -> bool:
    if name in ("attendees", "cohosts"):
        return set(old) != set(new)
    return old != new


@transaction.atomic
def event_cancel(*, event: Event, now: datetime | None = None) -> Event:
    """Cancels (kept for history). Cancelling twice is harmless and announces nothing the second time."""
    now = now or dj_timezone.now()
    event = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    if event.is_cancelled:
        return event
    event.status = EventStatus.CANCELLED
    event.cancelled_at = now
    event.sequence += 1
    event.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
    rsvp_reminders.rsvp_reminder_sync(event=event, now=now)
    reminder_schedule.event_reminders_reschedule(event=event)
    messages.event_cancel_notices_write(event_id=event.pk)
    _announce(signals.event_cancelled, event=event)
    logger.info("event %s cancelled", event.pk)
    return event


def event_may_edit(*, event: Event, user, role: str | None) -> bool:
    """Who manages an event (edits it, sees and exports its guests, checks them in, messages them).

    Owners/admins (and staff) every event; a member the events they host or co-host. The one
    permission check for managing an event: the API, the admin and the guest tools call it.
    """
    if role in ADMIN_ROLES:
        return True
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return False
    # ``cohosts.all()`` reads the prefetched list when the API's queryset brought it (≤ 20 rows).
    return event.host_id == user_id or any(cohost.pk == user_id for cohost in event.cohosts.all())
