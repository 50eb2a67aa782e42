"""A gathering's date poll: the organisers propose dates or time slots, guests and members vote
yes / if need be / no, the organisers fix one option, which sets the event's time and tells
the guests (with the calendar entry).

Options are read in the event's zone (the workspace's): a naive time is wall-clock time there.
Each vote keeps the voter's time zone, shown in the table next to their name. A poll has
``MAX_OPTIONS`` options at most and is opened once; once fixed it is closed and refuses votes
(409 ``poll_closed``). The table (``poll_table``) is read in a constant number of queries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone as dj_timezone

from birthdaybuddy.errors import Conflict
from birthdaybuddy.timerules.recurrence import local_to_utc_rfc5545
from events import messages, services
from events.models import Attendee, Event, EventKind, PollOption, PollStatus, PollVote, Vote
from events.validation import field_error, workspace_zone

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

MAX_OPTIONS = 30


def _zone_name(value: Any, *, fallback: str) -> str:
    if value in (None, ""):
        return fallback
    if not isinstance(value, str) or len(value) > 64:
        raise field_error("time_zone", "An IANA time zone such as Europe/Berlin.", "invalid_time_zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise field_error("time_zone", f"Unknown time zone: {value}.", "invalid_time_zone") from exc
    return value


def _utc(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware time as given; a naive one is wall-clock time in ``tz`` (RFC 5545's reading of gaps)."""
    if value.utcoffset() is not None:
        return value.astimezone(UTC)
    return local_to_utc_rfc5545(value.replace(microsecond=0), tz)


def _option_values(raw: Any, *, tz: ZoneInfo, index: int) -> dict[str, Any]:
    where = f"options[{index}]"
    if not isinstance(raw, Mapping):
        raise field_error("options", f"{where}: an object with a date, or a start (and end).", "invalid")
    day, start, end = raw.get("date"), raw.get("starts_at"), raw.get("ends_at")
    if isinstance(day, date) and not isinstance(day, datetime) and start is None and end is None:
        return {"date": day, "starts_at": None, "ends_at": None}
    if isinstance(start, datetime) and day is None and (end is None or isinstance(end, datetime)):
        start_utc = _utc(start, tz)
        end_utc = None
        if end is not None:
            end_utc = _utc(end, tz)
            if end_utc <= start_utc:
                raise field_error("options", f"{where}: the end must be after the start.", "end_before_start")
        return {"date": None, "starts_at": start_utc, "ends_at": end_utc}
    raise field_error("options", f"{where}: give either a date, or a start (and an optional end).", "invalid")


def _require_gathering(event: Event) -> None:
    if event.kind != EventKind.GATHERING:
        raise field_error("event", "Only gatherings have a date poll.", "not_a_gathering")
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")


@transaction.atomic
def poll_open(*, event: Event, options: list) -> list[PollOption]:
    """Opens the event's date poll with ``options`` (2 to 30 dates or time slots, in the event's zone).

    400 ``options`` (bad, duplicate, too few or too many), ``not_a_gathering``; 409 ``poll_exists``
    (a poll is opened once), ``event_cancelled``.
    """
    event = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    _require_gathering(event)
    if event.poll:
        raise Conflict("This event already has a date poll.", code="poll_exists")
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise field_error("options", f"Propose from 2 to {MAX_OPTIONS} options.", "invalid")
    tz = workspace_zone(event.workspace)
    values = [_option_values(raw, tz=tz, index=index) for index, raw in enumerate(options)]
    keys = [(v["date"], v["starts_at"], v["ends_at"]) for v in values]
    if len(set(keys)) != len(keys):
        raise field_error("options", "Each option may appear only once.", "duplicate")
    rows = [PollOption(event=event, position=index, **value) for index, value in enumerate(values)]
    PollOption.objects.bulk_create(rows)
    event.poll = PollStatus.OPEN
    event.save(update_fields=["poll", "updated_at"])
    logger.info("event %s: date poll opened with %d options", event.pk, len(rows))
    return rows


@transaction.atomic
def poll_vote(
    *,
    event: Event,
    votes: Any,
    time_zone: Any = None,
    attendee: Attendee | None = None,
    user: User | None = None,
    now: datetime | None = None,
) -> int:
    """Records one voter's votes (``{option id: "yes"|"ifneedbe"|"no"}``); voting again changes them.

    The voter is a guest (``attendee``) or a member (``user``). 400 ``votes`` (an option of
    another poll, a bad choice), ``time_zone``; 409 ``poll_closed`` / ``no_poll``. Nothing is
    written when refused.
    """
    now = now or dj_timezone.now()
    event = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    _require_gathering(event)
    if event.poll == PollStatus.CLOSED:
        raise Conflict("The date is fixed; the poll takes no more votes.", code="poll_closed")
    if event.poll != PollStatus.OPEN:
        raise Conflict("This event has no date poll.", code="no_poll")
    if not isinstance(votes, Mapping) or not votes:
        raise field_error("votes", "An object of option id → yes, ifneedbe or no.", "invalid")
    options = {str(option.pk): option for option in PollOption.objects.filter(event=event)}
    for key, choice in votes.items():
        if str(key) not in options:
            raise field_error("votes", f"Not an option of this poll: {key}.", "unknown_option")
        if choice not in Vote.values:
            raise field_error("votes", f"Vote yes, ifneedbe or no (not {choice!r}).", "invalid_choice")
    zone = _zone_name(time_zone, fallback=event.workspace.timezone)
    voter = {"attendee": attendee} if attendee is not None else {"user": user}
    for key, choice in votes.items():
        PollVote.objects.update_or_create(
            option=options[str(key)], **voter, defaults={"choice": choice, "time_zone": zone, "voted_at": now}
        )
    return len(votes)


@dataclass
class PollRow:
    """One voter's line of the table."""

    name: str
    kind: str  # "guest" or "member"
    time_zone: str
    choices: dict[str, str] = field(default_factory=dict)


@dataclass
class PollTable:
    status: str
    zone: str
    options: list[PollOption]
    rows: list[PollRow]
    tallies: dict[str, dict[str, int]]


def poll_table(event: Event) -> PollTable:
    """Options, every voter's choices and time zone, and the tallies per option: two queries."""
    options = list(PollOption.objects.filter(event=event).order_by("position"))
    rows: dict[tuple[str, Any], PollRow] = {}
    tallies = {str(option.pk): dict.fromkeys(Vote.values, 0) for option in options}
    votes = (
        PollVote.objects.filter(option__event=event)
        .order_by("voted_at", "id")
        .values_list(
            "option_id",
            "choice",
            "time_zone",
            "attendee_id",
            "attendee__person__name",
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__email",
        )
    )
    for option_id, choice, zone, attendee_id, guest_name, user_id, first, last, email in votes:
        if attendee_id is not None:
            key: tuple[str, Any] = ("guest", attendee_id)
            name = guest_name
        else:
            key = ("member", user_id)
            name = f"{first} {last}".strip() or email
        row = rows.setdefault(key, PollRow(name=name, kind=key[0], time_zone=zone))
        row.time_zone = zone
        row.choices[str(option_id)] = choice
        tallies[str(option_id)][choice] += 1
    return PollTable(
        status=event.poll,
        zone=event.workspace.timezone,
        options=options,
        rows=sorted(rows.values(), key=lambda row: (row.kind, row.name.casefold())),
        tallies=tallies,
    )


def votes_of(*, attendee: Attendee | None = None, user: User | None = None) -> dict[str, str]:
    """One voter's votes: option id → choice."""
    rows = PollVote.objects.filter(attendee=attendee) if attendee is not None else PollVote.objects.filter(user=user)
    return {str(option): choice for option, choice in rows.values_list("option_id", "choice")}


def poll_for_guest(attendee: Attendee) -> dict | None:
    """The poll as a guest's JSON shows it: options (UTC), tallies and the guest's own votes; None without a poll."""
    event = attendee.event
    if not event.poll:
        return None
    table = poll_table(event)
    mine = votes_of(attendee=attendee)
    return {
        "status": table.status,
        "zone": table.zone,
        "options": [
            {
                "id": str(option.pk),
                "date": option.date.isoformat() if option.date else None,
                "starts_at": _iso(option.starts_at),
                "ends_at": _iso(option.ends_at),
                **table.tallies[str(option.pk)],
                "mine": mine.get(str(option.pk)),
            }
            for option in table.options
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


@transaction.atomic
def poll_fix(*, event: Event, option_id, now: datetime | None = None) -> Event:
    """Fixes the date: the option becomes the event's time (through ``event_update``), the poll
    closes, and every invited guest who has not declined is told the date with the calendar entry.

    400 ``option`` (not an option of this poll); 409 ``poll_closed`` / ``no_poll`` / ``event_cancelled``.
    """
    now = now or dj_timezone.now()
    locked = Event.objects.select_for_update(of=("self",)).select_related("workspace").get(pk=event.pk)
    _require_gathering(locked)
    if locked.poll == PollStatus.CLOSED:
        raise Conflict("The date is already fixed.", code="poll_closed")
    if locked.poll != PollStatus.OPEN:
        raise Conflict("This event has no date poll.", code="no_poll")
    option = PollOption.objects.filter(event=locked, pk=option_id).first() if option_id else None
    if option is None:
        raise field_error("option", "Not an option of this poll.", "unknown_option")
    if option.date is not None:
        data: dict[str, Any] = {"all_day": True, "date": option.date}
    else:
        data = {"all_day": False, "starts_at": option.starts_at, "ends_at": option.ends_at}
    if locked.rrule:
        data["rrule"] = ""
    if locked.rsvp_deadline is not None:
        # A deadline after the chosen start (an all-day option starts at its local midnight) is cleared:
        # answers are then taken until the start.
        start = option.starts_at
        if option.date is not None:
            start = local_to_utc_rfc5545(datetime.combine(option.date, time()), workspace_zone(locked.workspace))
        if start is not None and locked.rsvp_deadline > start:
            data["rsvp_deadline"] = None
    Event.objects.filter(pk=locked.pk).update(poll=PollStatus.CLOSED)
    updated = services.event_update(event=locked, data=data, now=now, notify=False)
    messages.event_date_fixed_write(event_id=updated.pk)
    logger.info("event %s: date fixed from option %s", updated.pk, option.pk)
    updated.refresh_from_db()
    return updated
