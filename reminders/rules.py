"""The rules every reminder write is checked against: field by field, then the business rules.

``reminders.services`` merges a write into the reminder's current values and runs these checks
before anything is saved; each problem is collected under the API's field name (``at``,
``template``, ``event``) and raised together as one ``ValidationError``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError

from birthdaybuddy.timerules import rrules
from birthdaybuddy.timerules.recurrence import local_to_utc, utc_to_local, wall_anchor
from birthdaybuddy.timerules.rrules import parse_wall
from events.models import Event, EventStatus
from reminders.models import EVENT_AUDIENCES, Audience, MessageType, Reminder, ReminderKind
from reminders.validators import rrule_error, template_error
from workspaces.models import TEAM_CHAT_CHANNELS, Channel, Person, Workspace

# One-time instants a little in the past (clock skew, a slow client) are still accepted and fire at once.
PAST_TOLERANCE = timedelta(minutes=1)
MAX_OFFSET_MINUTES = 366 * 24 * 60
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
TEMPLATE_MAX_CHARS = 10_000
MAX_RECIPIENTS = 1_000

STANDALONE_KINDS = frozenset({ReminderKind.ONE_TIME, ReminderKind.RECURRING})
CREATABLE_KINDS = frozenset({ReminderKind.EVENT, *STANDALONE_KINDS})
DIGEST_FIELDS = frozenset({"name", "active", "channels", "at_time", "personal_greetings"})
# The team post (Slack, Teams, Google Chat) and the members' emails.
DIGEST_CHANNELS = (Channel.SLACK, Channel.TEAMS, Channel.GCHAT, Channel.EMAIL)
# Fields that decide when a reminder fires; changing one reschedules it.
TIMING_FIELDS = frozenset(
    {"run_at", "run_at_local", "rrule", "exdates", "rdates", "event_id", "offset_minutes", "at_time", "active"}
)
SCHEDULE_FIELDS = TIMING_FIELDS | {"urgent"}
EVENT_KIND_TO_MESSAGE_TYPE = {"deadline": MessageType.DEADLINE, "appointment": MessageType.APPOINTMENT}

FIELD_NAMES = {  # model field → API field
    "run_at": "at",
    "message": "template",
    "event_id": "event",
    "appointment_starts_at": "appointment",
    "appointment_minutes": "appointment",
    "appointment_location": "appointment",
}
WRITABLE = (
    "kind",
    "name",
    "audience",
    "channels",
    "message",
    "message_type",
    "at_time",
    "rrule",
    "exdates",
    "rdates",
    "run_at",
    "run_at_local",
    "event_id",
    "offset_minutes",
    "personal_greetings",
    "urgent",
    "active",
    "appointment_starts_at",
    "appointment_minutes",
    "appointment_location",
)


class Errors(dict):
    def add(self, field: str, message: str, code: str) -> None:
        self.setdefault(FIELD_NAMES.get(field, field), []).append(ValidationError(message, code=code))

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def _minute(value: datetime | None) -> datetime | None:
    return value.replace(second=0, microsecond=0) if value is not None else None


def with_wall_time(data: dict, tz: ZoneInfo) -> dict:
    """``run_at`` as an instant, with ``run_at_local``: the wall time it was written with.

    A naive ``run_at`` is wall-clock time in the workspace's zone: it maps to UTC with the
    reminders' rule (a time in a spring-forward gap fires when the clocks jump) and is kept as
    written to anchor the series, so a weekly 02:30 stays 02:30 after a first occurrence in the gap.
    """
    if "run_at" not in data:
        return data
    run_at = _minute(data["run_at"])
    if run_at is None:
        return {**data, "run_at": None, "run_at_local": ""}
    if run_at.tzinfo is None or run_at.utcoffset() is None:
        wall = run_at.replace(tzinfo=None)
        try:
            instant = local_to_utc(wall, tz)
        except (OverflowError, ValueError):
            instant = LATEST
    else:
        instant = run_at
        wall = utc_to_local(instant, tz)
    return {**data, "run_at": instant, "run_at_local": wall.isoformat()}


def _clean_dates(values: dict, *, changed: set[str], tz: ZoneInfo, errors: Errors) -> None:
    """EXDATE/RDATE of a recurring reminder, stored as local wall times."""
    for name in ("exdates", "rdates"):
        if not values.get(name):
            values[name] = []
            continue
        if values["kind"] != ReminderKind.RECURRING:
            errors.add(name, f"Only recurring reminders take {name}.", "invalid")
            continue
        if name not in changed or values.get("run_at") is None:
            continue
        anchor = wall_anchor(values["run_at"], tz=tz, wall=parse_wall(values.get("run_at_local")))
        cleaned, problem = rrules.wall_times(values[name], name=name, tz=tz, all_day=False, time_of_day=anchor.time())
        if problem:
            errors.add(name, problem, "invalid")
        values[name] = cleaned


def resolve_event(workspace: Workspace, event_id, errors: Errors) -> Event | None:
    if event_id is None:
        return None
    event = Event.objects.filter(workspace=workspace, pk=event_id).first()
    if event is None:
        errors.add("event_id", "No such event in this workspace.", "does_not_exist")
    return event


def resolve_recipients(workspace: Workspace, ids, errors: Errors) -> list[Person]:
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_RECIPIENTS:
        errors.add("recipients", f"At most {MAX_RECIPIENTS} recipients; use the members audience.", "too_many")
        return []
    people = list(Person.objects.filter(workspace=workspace, pk__in=ids))
    missing = sorted(str(pk) for pk in set(ids) - {person.pk for person in people})
    if missing:
        errors.add("recipients", f"Not people of this workspace: {', '.join(missing)}.", "invalid_recipient")
    return people


def apply_defaults(values: dict, event: Event | None) -> None:
    kind = values["kind"]
    if not values.get("audience"):
        if values.get("recipient_ids"):
            values["audience"] = Audience.PEOPLE
        elif kind == ReminderKind.EVENT:
            values["audience"] = Audience.ATTENDEES
        else:
            values["audience"] = Audience.WORKSPACE_CHANNEL
    if not values.get("message_type"):
        if event is not None:
            values["message_type"] = EVENT_KIND_TO_MESSAGE_TYPE.get(event.kind, MessageType.NOTICE)
        else:
            values["message_type"] = MessageType.CUSTOM
    if not values.get("name"):
        if event is not None:
            values["name"] = f"Reminder: {event.title}"[:200]
        else:
            values["name"] = "One-time reminder" if kind == ReminderKind.ONE_TIME else "Recurring reminder"
    if kind == ReminderKind.EVENT and values.get("offset_minutes") is None:
        values["offset_minutes"] = 0


def check(
    *,
    workspace: Workspace,
    values: dict,
    event: Event | None,
    recipients: list[Person],
    changed: set[str],
    now: datetime,
    errors: Errors,
) -> None:
    """Business rules on the merged values; ``changed``: the fields this write sets."""
    kind = values["kind"]
    tz = ZoneInfo(workspace.timezone)
    run_at = values.get("run_at")

    if run_at is not None and not EARLIEST <= run_at < LATEST:
        errors.add("run_at", "Choose an instant between the years 2000 and 2199.", "out_of_range")
        return

    if kind == ReminderKind.EVENT:
        if event is None and "event" not in errors:
            errors.add("event_id", "An event reminder needs an event.", "required")
        elif event is not None and event.status == EventStatus.CANCELLED and "event_id" in changed:
            errors.add("event_id", "This event is cancelled: a reminder for it would never be sent.", "event_cancelled")
        if run_at is not None:
            errors.add(
                "run_at", "Only one-time and recurring reminders take `at`; event reminders use the event.", "invalid"
            )
        if values.get("rrule"):
            errors.add(
                "rrule", "Only recurring reminders take an RRULE; an event reminder follows its event's.", "invalid"
            )
        offset = values.get("offset_minutes")
        if offset is not None and offset < 0:
            errors.add(
                "offset_minutes",
                "offset_minutes counts back from the event's start and cannot point after it; "
                "use 0 for 'at the start'.",
                "offset_after_event",
            )
        elif offset is not None and offset > MAX_OFFSET_MINUTES:
            errors.add("offset_minutes", f"At most {MAX_OFFSET_MINUTES} minutes (366 days).", "out_of_range")
        elif event is not None and not event.all_day and values.get("at_time") and event.starts_at:
            # "N days before at HH:MM" must not land after a timed event's start on its own day.
            start = utc_to_local(event.starts_at, tz)
            day = (start - timedelta(minutes=offset or 0)).date()
            if day == start.date() and values["at_time"] > start.time():
                errors.add(
                    "offset_minutes",
                    f"At {values['at_time']:%H:%M} on the day, this reminder would come after the event starts "
                    f"({start:%H:%M}); choose a larger offset or an earlier at_time.",
                    "offset_after_event",
                )
    else:
        if values.get("event_id") is not None:
            errors.add("event_id", "Only event reminders take an event.", "invalid")
        if values.get("offset_minutes"):
            errors.add("offset_minutes", "Only event reminders take an offset.", "invalid")
        if values.get("at_time") is not None:
            errors.add(
                "at_time",
                "One-time and recurring reminders fire at `at` (and its rule); at_time is not used.",
                "invalid",
            )
        if run_at is None:
            message = (
                "A one-time reminder needs `at`, the instant to send it."
                if kind == ReminderKind.ONE_TIME
                else "A recurring reminder needs `at`, its first occurrence (which anchors the RRULE)."
            )
            errors.add("run_at", message, "required")
        if kind == ReminderKind.ONE_TIME:
            if values.get("rrule"):
                errors.add("rrule", "A one-time reminder has no RRULE; use kind 'recurring'.", "invalid")
            if run_at is not None and "run_at" in changed and run_at < now - PAST_TOLERANCE:
                errors.add("run_at", "This instant is in the past.", "in_the_past")
        elif kind == ReminderKind.RECURRING:
            anchor = (
                wall_anchor(run_at, tz=tz, wall=parse_wall(values.get("run_at_local")))
                if run_at is not None
                else datetime(2026, 1, 1, 9)  # noqa: DTZ001
            )
            # A rule stored before RFC 5545's UNTIL types were enforced keeps its meaning on unrelated edits.
            problem = rrule_error(values.get("rrule") or "", dtstart=anchor, strict="rrule" in changed)
            if problem:
                errors.add("rrule", problem, "invalid_rrule")
        if not (values.get("message") or "").strip():
            errors.add("message", "Write the message to send.", "required")

    _clean_dates(values, changed=changed, tz=tz, errors=errors)
    _check_audience(values=values, recipients=recipients, errors=errors)
    if values.get("message"):
        if len(values["message"]) > TEMPLATE_MAX_CHARS:
            errors.add("message", f"At most {TEMPLATE_MAX_CHARS} characters.", "max_length")
        else:
            problem = template_error(values["message"])
            if problem:
                errors.add("message", problem, "invalid_template")
    if values.get("personal_greetings"):
        errors.add("personal_greetings", "Only the birthday digest sends personal greetings.", "invalid")


def _check_audience(*, values: dict, recipients: list[Person], errors: Errors) -> None:
    audience = values["audience"]
    channels = values.get("channels") or []
    if len(set(channels)) != len(channels):
        errors.add("channels", "A channel may appear only once.", "duplicate")
    unknown = [c for c in channels if c not in Channel.values]
    if unknown:
        errors.add(
            "channels", f"Unknown channel {unknown[0]!r}; choose from {', '.join(Channel.values)}.", "invalid_choice"
        )
    if audience == Audience.UNANSWERED_GUESTS:
        errors.add(
            "audience", "Guests who have not answered are reminded through the event's rsvp_reminder_hours.", "invalid"
        )
    if audience in EVENT_AUDIENCES and values["kind"] != ReminderKind.EVENT:
        errors.add("audience", f"The audience {audience!r} needs an event reminder.", "invalid")
    if audience == Audience.WORKSPACE_CHANNEL and channels and not set(channels) & set(TEAM_CHAT_CHANNELS):
        errors.add("channels", "The workspace channel is a team chat: include 'slack', 'teams' or 'gchat'.", "invalid")
    if audience == Audience.PEOPLE:
        if not recipients and "recipients" not in errors:
            errors.add("recipients", "Choose at least one person.", "required")
        for channel in channels:
            if recipients and all(channel in (person.opted_out_channels or []) for person in recipients):
                errors.add("channels", f"Every chosen recipient opted out of {channel}.", "opted_out")
    elif recipients:
        errors.add("recipients", "Chosen recipients are used with the audience 'people'.", "invalid")


def check_schedule(reminder: Reminder) -> None:
    """After rescheduling: an active reminder must have a time left to fire."""
    if not reminder.active or reminder.next_run_at is not None:
        return
    errors = Errors()
    if reminder.kind == ReminderKind.ONE_TIME:
        errors.add("run_at", "This instant is in the past.", "in_the_past")
    elif reminder.kind == ReminderKind.RECURRING:
        errors.add("rrule", "This rule has no occurrence after now.", "no_occurrence")
    elif reminder.kind == ReminderKind.EVENT:
        errors.add("offset_minutes", "This reminder's time (before the event) has already passed.", "in_the_past")
    errors.raise_if_any()


def check_digest(*, data: dict, changed: set[str], errors: Errors) -> None:
    for name in sorted(changed - DIGEST_FIELDS - {"run_at_local"}):
        errors.add(
            name,
            "The birthday digest takes only name, active, channels, at_time and personal_greetings.",
            "digest_field",
        )
    channels = data.get("channels") or []
    if any(channel not in DIGEST_CHANNELS for channel in channels):
        errors.add(
            "channels",
            "The digest goes to the team's chat and to members by email: choose from slack, teams, gchat, email.",
            "invalid",
        )
    if len(set(channels)) != len(channels):
        errors.add("channels", "A channel may appear only once.", "duplicate")
