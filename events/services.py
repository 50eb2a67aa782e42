"""Every write of the events app: events, attendees and their RSVPs, calendar feeds.

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
import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from audit.entries import audit_manual_send
from birthdaybuddy.errors import ApplicationError, Conflict, PermissionDeniedError
from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.occurrences import (
    MAX_YEAR,
    MIN_YEAR,
    RRuleError,
    Span,
    first_conflict,
    normalize_rrule,
    series_start,
    spans_between,
    validated_rule,
)
from birthdaybuddy.timerules.recurrence import local_to_utc, local_to_utc_rfc5545, utc_to_local
from events import messages, signals
from events.models import HOST_OVERLAP_CONSTRAINT, Attendee, CalendarFeed, Event, EventKind, EventStatus, Rsvp
from events.tokens import TOKEN_RE, hash_token
from reminders import schedule as reminder_schedule
from workspaces.models import ADMIN_ROLES, Membership, Person, Workspace
from workspaces.selectors import effective_role

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "all_day",
    "date",
    "rrule",
    "exdates",
    "rdates",
    "location",
    "notes",
    "host",
    "attendees",
)
MAX_ATTENDEES = 1000
# Recurring appointments are checked for conflicts over this horizon from their first
# upcoming occurrence (and at most CONFLICT_OCCURRENCE_LIMIT occurrences of each event).
CONFLICT_HORIZON = timedelta(days=366)
CONFLICT_OCCURRENCE_LIMIT = 1000
MAX_LIVE_FEEDS_PER_USER = 20


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


def workspace_zone(workspace: Workspace) -> ZoneInfo:
    return ZoneInfo(workspace.timezone)


# --- validation -------------------------------------------------------------------------------


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str = "invalid") -> None:
        self.errors.setdefault(field, []).append(ValidationError(message, code=code))

    def has(self, field: str) -> bool:
        return field in self.errors

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _to_utc(value: datetime, *, tz: ZoneInfo, field: str, errors: _Errors) -> datetime | None:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        errors.add(field, f"Must be between the years {MIN_YEAR} and {MAX_YEAR}.", "out_of_range")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return local_to_utc_rfc5545(value.replace(tzinfo=None), tz)
    return value.astimezone(UTC)


def _infer_all_day(changes: Mapping[str, Any], current: bool) -> bool:
    if "all_day" in changes:
        return bool(changes["all_day"])
    has_date = changes.get("date") is not None
    has_start = changes.get("starts_at") is not None
    if has_date and not has_start:
        return True
    if has_start and not has_date:
        return False
    return current


def _current_values(event: Event | None) -> dict[str, Any]:
    if event is None:
        return {
            "title": "",
            "kind": EventKind.CUSTOM,
            "starts_at": None,
            "ends_at": None,
            "all_day": False,
            "date": None,
            "rrule": "",
            "starts_local": "",
            "exdates": [],
            "rdates": [],
            "location": "",
            "notes": "",
            "host": None,
            "attendees": [],
        }
    return {
        "title": event.title,
        "kind": event.kind,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "all_day": event.all_day,
        "date": event.date,
        "rrule": event.rrule,
        "starts_local": event.starts_local,
        "exdates": list(event.exdates or []),
        "rdates": list(event.rdates or []),
        "location": event.location,
        "notes": event.notes,
        "host": event.host_id,
        "attendees": list(event.attendances.order_by("created_at", "id").values_list("person_id", flat=True)),
    }


def _clean_values(*, workspace: Workspace, event: Event | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The event's complete, validated values after applying ``changes``; raises ``ValidationError``."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be set."] for name in sorted(unknown)})
    tz = workspace_zone(workspace)
    errors = _Errors()
    values = _current_values(event)
    values.update({name: value for name, value in changes.items() if name not in ("starts_at", "ends_at")})
    for name in ("starts_at", "ends_at"):
        if name in changes:
            value = changes[name]
            values[name] = None if value is None else _to_utc(value, tz=tz, field=name, errors=errors)
    if changes.get("starts_at") is not None and values["starts_at"] is not None:
        given = changes["starts_at"]
        wall = given.replace(microsecond=0) if given.utcoffset() is None else utc_to_local(values["starts_at"], tz)
        values["starts_local"] = wall.replace(tzinfo=None).isoformat()
    for name in ("title", "location", "notes"):
        values[name] = (values[name] or "").strip()
    if not values["title"]:
        errors.add("title", "A title is required.", "required")
    values["rrule"] = values["rrule"] or ""

    values["all_day"] = _infer_all_day(changes, values["all_day"])
    if values["all_day"]:
        for name in ("starts_at", "ends_at"):
            if changes.get(name) is not None:
                errors.add(name, "An all-day event has a date, not a start or end time.", "all_day_has_no_time")
            values[name] = None
        if values["date"] is None:
            errors.add("date", "An all-day event needs a date.", "required")
        elif not MIN_YEAR <= values["date"].year <= MAX_YEAR:
            errors.add("date", f"Must be between the years {MIN_YEAR} and {MAX_YEAR}.", "out_of_range")
    else:
        if changes.get("date") is not None:
            errors.add(
                "date",
                "A timed event has starts_at (and ends_at), not a date; set all_day for an all-day event.",
                "timed_has_no_date",
            )
        values["date"] = None
        if values["starts_at"] is None and not errors.has("starts_at"):
            errors.add("starts_at", "A timed event needs a start.", "required")

    starts_at, ends_at = values["starts_at"], values["ends_at"]
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors.add("ends_at", "The end must be after the start.", "end_before_start")

    if values["all_day"]:
        values["starts_local"] = ""
    if values["rrule"] and not errors.errors:
        values["rrule"] = normalize_rrule(values["rrule"])
        local_start = series_start(_Candidate(values), tz=tz)
        try:
            # A rule stored before RFC 5545's UNTIL types were enforced keeps its meaning on
            # unrelated edits; a rule being written now is held to them.
            validated_rule(
                values["rrule"], dtstart=local_start, tz=tz, all_day=values["all_day"], strict=_rule_written(changes)
            )
        except RRuleError as exc:
            errors.add("rrule", exc.message, exc.code)
    _clean_dates(values=values, changes=changes, tz=tz, errors=errors)

    if values["kind"] == EventKind.APPOINTMENT:
        if values["all_day"]:
            errors.add("all_day", "An appointment has a start and an end time, not a whole day.", "appointment_timed")
        elif ends_at is None and not errors.has("ends_at"):
            errors.add("ends_at", "An appointment needs an end.", "required")
        if values["host"] is None:
            errors.add("host", "An appointment needs a host (a member of the workspace).", "required")
        if not values["attendees"]:
            errors.add("attendees", "An appointment needs at least one attendee.", "required")

    host_given = "host" in changes and values["host"] is not None
    if host_given and not Membership.objects.filter(workspace=workspace, user_id=values["host"]).exists():
        errors.add("host", f"User {values['host']} is not a member of this workspace.", "host_not_member")

    if "attendees" in changes:
        _check_attendees(workspace=workspace, person_ids=values["attendees"], errors=errors)
    errors.raise_if_any()
    return values


class _Candidate:
    """The values being validated, read like an event by ``birthdaybuddy.timerules.occurrences``."""

    def __init__(self, values: Mapping[str, Any]):
        self.__dict__.update(values)


def _rule_written(changes: Mapping[str, Any]) -> bool:
    return bool(changes.get("rrule"))


def _clean_dates(*, values: dict[str, Any], changes: Mapping[str, Any], tz: ZoneInfo, errors: _Errors) -> None:
    """EXDATE/RDATE (``exdates``/``rdates``): only with an RRULE, stored as local dates or wall times."""
    if not values["rrule"]:
        for name in ("exdates", "rdates"):
            if changes.get(name):
                errors.add(name, f"{name} adjust a repeating event: set an rrule too.", "requires_rrule")
            values[name] = []
        return
    if errors.errors:
        return
    time_of_day = None if values["all_day"] else series_start(_Candidate(values), tz=tz).time()
    for name in ("exdates", "rdates"):
        if name in changes:
            cleaned, problem = rrules.wall_times(
                changes[name] or [], name=name, tz=tz, all_day=values["all_day"], time_of_day=time_of_day
            )
            if problem:
                errors.add(name, problem, "invalid")
            values[name] = cleaned
    if not values["all_day"]:
        start = series_start(_Candidate(values), tz=tz)
        early = [value for value in values["rdates"] if rrules.parse_wall(value) < start]
        if early:
            errors.add("rdates", f"rdates cannot come before the start ({early[0]}).", "rdate_before_start")


def _check_attendees(*, workspace: Workspace, person_ids: list, errors: _Errors) -> None:
    if len(person_ids) > MAX_ATTENDEES:
        errors.add("attendees", f"At most {MAX_ATTENDEES} attendees.", "too_many")
        return
    if len(set(person_ids)) != len(person_ids):
        errors.add("attendees", "Each person may appear only once.", "duplicate")
        return
    found = set(Person.objects.filter(workspace=workspace, pk__in=person_ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in person_ids if pk not in found]
    if missing:
        errors.add(
            "attendees",
            f"Not people of this workspace: {', '.join(missing)}.",
            "attendee_not_in_workspace",
        )


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
    tz = workspace_zone(candidate.workspace)
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
    values = _clean_values(workspace=workspace, event=None, changes=data)
    attendee_ids = values.pop("attendees")
    host_id = values.pop("host")
    event = Event(workspace=workspace, created_by=created_by, host_id=host_id, created_at=now, **values)
    if event.kind == EventKind.APPOINTMENT:
        _lock_host(workspace=workspace, host_id=host_id)
        _check_host_conflict(candidate=event, now=now)
        _save_appointment_safely(event, force_insert=True)
    else:
        event.save(force_insert=True)
    new_attendees = _add_attendees(event, attendee_ids)
    if event.kind == EventKind.GATHERING and new_attendees:
        messages.event_invitations_write(event_id=event.pk, attendee_ids=new_attendees)
    logger.info("event %s created in workspace %s", event.pk, workspace.pk)
    return event


def _require_active(event: Event) -> None:
    if event.is_cancelled:
        raise Conflict("This event was cancelled; it can no longer be changed.", code="event_cancelled")


@transaction.atomic
def event_update(*, event: Event, data: Mapping[str, Any], now: datetime | None = None) -> Event:
    """Applies ``data`` (a partial update). Moving or relocating bumps ``sequence``; listeners hear of it."""
    now = now or dj_timezone.now()
    event = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    _require_active(event)
    before = _current_values(event)
    values = _clean_values(workspace=event.workspace, event=event, changes=data)
    changed = frozenset(name for name in EDITABLE_FIELDS if _differs(before[name], values[name], name))
    if not changed:
        return event
    attendee_ids = values.pop("attendees")
    host_id = values.pop("host")
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
    reminder_schedule.event_reminders_reschedule(event=event)
    new_attendees: list = []
    if "attendees" in changed:
        wanted = list(attendee_ids)
        Attendee.objects.filter(event=event).exclude(person_id__in=wanted).delete()
        have = set(Attendee.objects.filter(event=event).values_list("person_id", flat=True))
        new_attendees = _add_attendees(event, [pk for pk in wanted if pk not in have])
    if changed & signals.SCHEDULE_FIELDS:
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
    if name == "attendees":
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
    reminder_schedule.event_reminders_reschedule(event=event)
    messages.event_cancel_notices_write(event_id=event.pk)
    _announce(signals.event_cancelled, event=event)
    logger.info("event %s cancelled", event.pk)
    return event


def event_may_edit(*, event: Event, user, role: str | None) -> bool:
    """Owners/admins (and staff) edit every event; a member edits the events they host."""
    return role in ADMIN_ROLES or (event.host_id is not None and event.host_id == getattr(user, "pk", None))


# --- RSVP -------------------------------------------------------------------------------------


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


def event_is_over(event: Event, *, now: datetime) -> bool:
    """A one-off event whose end (or start, or local day) has passed; recurring events never are."""
    if event.rrule:
        return False
    if event.all_day:
        tz = workspace_zone(event.workspace)
        return local_to_utc(datetime.combine(event.date + timedelta(days=1), time()), tz) <= now
    return (event.ends_at or event.starts_at) <= now


def _require_open_for_rsvp(event: Event, *, now: datetime) -> None:
    if event.is_cancelled:
        raise ApplicationError("This event was cancelled.", code="event_cancelled", status=410)
    if event_is_over(event, now=now):
        raise ApplicationError("This event is over.", code="event_over", status=410)


def rsvp_lookup(*, token: str, now: datetime | None = None) -> Attendee:
    """The attendee a token belongs to (404 ``not_found``; 410 ``event_cancelled`` / ``event_over``)."""
    attendee = _attendee_for_token(token)
    _require_open_for_rsvp(attendee.event, now=now or dj_timezone.now())
    return attendee


@transaction.atomic
def rsvp_answer(*, token: str, answer: str, note: str | None = None, now: datetime | None = None) -> Attendee:
    """Records ``yes``/``no``/``maybe`` (and a note) for the token's attendee; nothing is written if refused."""
    now = now or dj_timezone.now()
    if answer not in (Rsvp.YES, Rsvp.NO, Rsvp.MAYBE):
        raise _field_error("answer", "Answer yes, no or maybe.", "invalid_choice")
    attendee = _attendee_for_token(token, lock=True)
    _require_open_for_rsvp(attendee.event, now=now)
    attendee.answer = answer
    if note is not None:
        attendee.note = note.strip()
    attendee.responded_at = now
    attendee.save(update_fields=["answer", "note", "responded_at"])
    logger.info("attendee %s of event %s answered %s", attendee.pk, attendee.event_id, answer)
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


# --- calendar feeds ---------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_create(*, workspace: Workspace, scope: str, actor: User) -> tuple[CalendarFeed, str]:
    """A new feed and its token (returned once). ``scope``: ``member`` (the actor's own) or ``workspace`` (admins)."""
    membership = Membership.objects.filter(workspace=workspace, user=actor).first()
    role = effective_role(membership=membership, user=actor)
    if scope == "workspace":
        if role not in ADMIN_ROLES:
            raise PermissionDeniedError(
                "Only a workspace owner or admin can create the workspace feed.", code="role_required"
            )
        user = None
    elif scope == "member":
        if membership is None:
            raise PermissionDeniedError("Only members have a member feed.", code="member_required")
        user = actor
    else:
        raise _field_error("scope", "Choose member or workspace.", "invalid_choice")
    live = CalendarFeed.objects.for_workspace(workspace).live().filter(user=user)
    if live.count() >= MAX_LIVE_FEEDS_PER_USER:
        raise Conflict(
            f"At most {MAX_LIVE_FEEDS_PER_USER} live feeds of this kind; revoke one first.", code="too_many_feeds"
        )
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        id=uuid.uuid4(),
        workspace=workspace,
        user=user,
        token_hash=hash_token(token),
        token_hint=token[:4],
        created_by=actor,
    )
    logger.info("calendar feed %s (%s) created in workspace %s", feed.pk, scope, workspace.pk)
    return feed, token


def calendar_feed_revoke(*, feed: CalendarFeed, actor: User, role: str | None, now: datetime | None = None) -> None:
    """Revokes a feed: its URL answers 404 from now on. Its owner or a workspace admin; twice is harmless."""
    if role not in ADMIN_ROLES and feed.user_id != getattr(actor, "pk", None):
        raise PermissionDeniedError("Only the feed's owner or a workspace admin can revoke it.", code="role_required")
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=now or dj_timezone.now())
