"""Validation of an event's values: what ``event_create`` / ``event_update`` accept.

``clean_values`` applies a partial change to an event's current values and returns the
complete, checked values, or raises Django's ``ValidationError`` with a message per Event
JSON field. Naive times are wall-clock time in the workspace's zone (RFC 5545 §3.3.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.occurrences import (
    MAX_YEAR,
    MIN_YEAR,
    RRuleError,
    normalize_rrule,
    series_start,
    validated_rule,
)
from birthdaybuddy.timerules.recurrence import local_to_utc_rfc5545, utc_to_local
from events.models import Event, EventKind, GuestList
from workspaces.models import Membership, Person, Workspace

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
    "plus_ones_allowed",
    "capacity",
    "rsvp_deadline",
    "rsvp_reminder_hours",
    "offer_hours",
    "guest_list",
    "cohosts",
)
# The gathering's guest settings (no effect on the time, place or conflicts).
GUEST_FIELDS = frozenset(
    {"plus_ones_allowed", "capacity", "rsvp_deadline", "rsvp_reminder_hours", "offer_hours", "guest_list", "cohosts"}
)
MAX_ATTENDEES = 1000
MAX_PLUS_ONES = 10
MAX_CAPACITY = 100_000
MAX_OFFER_HOURS = 720
MAX_RSVP_REMINDER_HOURS = 720
MAX_COHOSTS = 20


def workspace_zone(workspace: Workspace) -> ZoneInfo:
    return ZoneInfo(workspace.timezone)


def field_error(field: str, message: str, code: str) -> ValidationError:
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


def current_values(event: Event | None) -> dict[str, Any]:
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
            "plus_ones_allowed": 0,
            "capacity": None,
            "rsvp_deadline": None,
            "rsvp_reminder_hours": None,
            "offer_hours": 48,
            "guest_list": GuestList.HIDDEN,
            "cohosts": [],
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
        "plus_ones_allowed": event.plus_ones_allowed,
        "capacity": event.capacity,
        "rsvp_deadline": event.rsvp_deadline,
        "rsvp_reminder_hours": event.rsvp_reminder_hours,
        "offer_hours": event.offer_hours,
        "guest_list": event.guest_list,
        "cohosts": sorted(event.cohosts.values_list("pk", flat=True), key=str),
    }


def clean_values(*, workspace: Workspace, event: Event | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The event's complete, validated values after applying ``changes``; raises ``ValidationError``."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: ["This field cannot be set."] for name in sorted(unknown)})
    tz = workspace_zone(workspace)
    errors = _Errors()
    values = current_values(event)
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
        local_start = _anchor(values, tz=tz)
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
    _clean_guest_settings(workspace=workspace, values=values, changes=changes, tz=tz, errors=errors)
    errors.raise_if_any()
    return values


class Candidate:
    """The values being validated, read like an event by ``birthdaybuddy.timerules.occurrences``."""

    all_day: bool
    date: date | None
    starts_at: datetime | None
    ends_at: datetime | None
    rrule: str

    def __init__(self, values: Mapping[str, Any]):
        self.__dict__.update(values)


def _anchor(values: Mapping[str, Any], *, tz: ZoneInfo) -> datetime:
    """The series' local start (DTSTART) of values already checked to have a start."""
    start = series_start(Candidate(values), tz=tz)
    if start is None:
        raise ValueError("a checked event has a start")
    return start


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
    time_of_day = None if values["all_day"] else _anchor(values, tz=tz).time()
    for name in ("exdates", "rdates"):
        if name in changes:
            cleaned, problem = rrules.wall_times(
                changes[name] or [], name=name, tz=tz, all_day=values["all_day"], time_of_day=time_of_day
            )
            if problem:
                errors.add(name, problem, "invalid")
            values[name] = cleaned
    if not values["all_day"]:
        start = _anchor(values, tz=tz)
        early = [value for value in values["rdates"] if (wall := rrules.parse_wall(value)) is not None and wall < start]
        if early:
            errors.add("rdates", f"rdates cannot come before the start ({early[0]}).", "rdate_before_start")


def _whole(value, *, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _clean_guest_settings(
    *, workspace: Workspace, values: dict[str, Any], changes: Mapping[str, Any], tz: ZoneInfo, errors: _Errors
) -> None:
    """+1s, capacity, the RSVP deadline, the time to confirm a waitlist offer, guest-list privacy, co-hosts."""
    if not _whole(values["plus_ones_allowed"], low=0, high=MAX_PLUS_ONES):
        errors.add("plus_ones_allowed", f"A whole number from 0 to {MAX_PLUS_ONES}.", "out_of_range")
    if values["capacity"] is not None and not _whole(values["capacity"], low=1, high=MAX_CAPACITY):
        errors.add("capacity", f"A whole number from 1 to {MAX_CAPACITY}, or null for no limit.", "out_of_range")
    if not _whole(values["offer_hours"], low=1, high=MAX_OFFER_HOURS):
        errors.add("offer_hours", f"A whole number of hours from 1 to {MAX_OFFER_HOURS}.", "out_of_range")
    reminder_hours = values["rsvp_reminder_hours"]
    if reminder_hours is not None and not _whole(reminder_hours, low=1, high=MAX_RSVP_REMINDER_HOURS):
        errors.add(
            "rsvp_reminder_hours",
            f"A whole number of hours from 1 to {MAX_RSVP_REMINDER_HOURS}, or null for no reminder.",
            "out_of_range",
        )
    if values["guest_list"] not in GuestList.values:
        errors.add("guest_list", "Choose hidden, counts or names.", "invalid_choice")
    if changes.get("rsvp_deadline") is not None:
        values["rsvp_deadline"] = _to_utc(changes["rsvp_deadline"], tz=tz, field="rsvp_deadline", errors=errors)
    starts_at = values["starts_at"]
    if values["all_day"] and values["date"] is not None:
        starts_at = local_to_utc_rfc5545(datetime.combine(values["date"], time()), tz)
    deadline = values["rsvp_deadline"]
    if deadline is not None and starts_at is not None and not values["rrule"] and deadline > starts_at:
        errors.add("rsvp_deadline", "The deadline for answers cannot be after the start.", "deadline_after_start")
    if "cohosts" in changes:
        cohosts = values["cohosts"] or []
        if len(cohosts) > MAX_COHOSTS or len(set(cohosts)) != len(cohosts):
            errors.add("cohosts", f"At most {MAX_COHOSTS} members, each once.", "invalid")
            return
        members = Membership.objects.filter(workspace=workspace, user_id__in=cohosts)
        found = set(members.values_list("user_id", flat=True))
        missing = [str(pk) for pk in cohosts if pk not in found]
        if missing:
            errors.add("cohosts", f"Not members of this workspace: {', '.join(missing)}.", "cohost_not_member")
        values["cohosts"] = sorted(cohosts, key=str)


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
