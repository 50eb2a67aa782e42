"""Each person's own time: when a workspace greets each person at the digest's time in their zone.

With ``Workspace.greet_in_own_zone`` on, the digest occurrence still posts to the team at the
workspace's time, but each celebrated person's greeting is due when the digest's time
(``Reminder.at_time`` or ``notify_at``) comes in the person's own zone (``Person.timezone``;
the workspace's zone when they have none) on the day their celebration is announced there —
the digest's Feb 29 and weekend/holiday rules, read in their zone. This module keeps the
schedule (``GreetingSchedule``: one row per person, keyed by the next UTC instant they are
greeted); ``own_time_firing.py`` fires the due rows from the tick.

Why one row per person and not one per (workspace, zone): a zone's row would fire every day
whether anyone there celebrates or not; with people spread over the world's zones that is
about one row per person firing daily — some 900,000 empty firings a day at the bench's
size for ~2,700 greetings. A person's row fires only on their day, so the tick's work
follows the greetings, and its idle look is the head of one index whatever the size.

The greeting's idempotency key is the one the digest would give it (the digest reminder,
the announced date at the digest's time, purpose, channel, recipient): whichever path
writes it first — this schedule, or the digest before the setting was switched on or after
it was switched off — the other writes nothing. The digest leaves to the schedule the people
whose row stands for that date or a later one: still to come, or sent and moved on (even if
the digest's time, and with it the key, changed since) (:func:`pending_greetings`); everyone
else (no row: dates written by a plain UPDATE, which runs no step and sends no signal; a row
behind the day) is greeted with the digest, so nobody is dropped.

The rows follow the data: a person saved (``receivers.person_saved``), people written in bulk
(:func:`people_written`, a ``workspaces.lifecycle`` people step: the import, ``sync_birthdays``, a
profile copied to its people), a workspace's settings changed (:func:`workspace_changed`, a
``workspaces.lifecycle`` step), and every row after it fires. Quiet hours hold back reminders,
never the digest: greetings come at the digest's time in the person's zone, as the digest's
greetings did.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from birthdaybuddy.timerules.recurrence import celebration_date, local_to_utc, utc_to_local
from birthdaybuddy.timerules.workdays import IsWorkday, shift, workday_calendar
from birthdaybuddy.validators import available_timezones
from reminders.models import Reminder, ReminderKind
from scheduling.digest import Celebrations
from scheduling.models import GreetingSchedule
from workspaces.models import Celebrate, Person, Workspace
from workspaces.querysets import may_be_celebrated

# The workspace settings the schedule is computed from.
SCHEDULE_SETTINGS = (
    "greet_in_own_zone",
    "timezone",
    "notify_at",
    "leap_day_policy",
    "celebration_shift",
    "holiday_country",
    "holiday_region",
)
REBUILD_CHUNK = 5_000
_ZONES: frozenset[str] = frozenset()


def person_zone(person: Person, workspace: Workspace) -> str:
    """The person's own zone when it is a known one, else the workspace's."""
    global _ZONES
    if not _ZONES:
        _ZONES = frozenset(available_timezones())
    return person.timezone if person.timezone in _ZONES else workspace.timezone


def digest_of(workspace: Workspace) -> Reminder | None:
    return Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).first()


def greeting_time(workspace: Workspace, digest: Reminder | None) -> time:
    """The digest's local time (its own ``at_time``, else ``notify_at``)."""
    return (digest.at_time if digest is not None else None) or workspace.notify_at


def calendar_of(workspace: Workspace) -> IsWorkday:
    return workday_calendar(workspace.holiday_country, workspace.holiday_region)


def next_greeting_date(
    person: Person, workspace: Workspace, *, on_or_after: date, is_workday: IsWorkday
) -> date | None:
    """The first date from ``on_or_after`` on which the person's birthday or work anniversary is
    announced (the Feb 29 rule, then the weekend/holiday shift); None when none will be.

    People who are not celebrated at all (declined, deactivated in Slack, both kinds off) get
    none; whether they are celebrated on the day is decided again when the row fires.
    """
    if not may_be_celebrated(person):
        return None
    dates: list[tuple[int, int, int | None]] = []
    if person.birth_month and person.birth_day and person.celebrate_birthday != Celebrate.OFF:
        dates.append((person.birth_month, person.birth_day, None))
    joined = person.joined_on
    if joined and person.celebrate_anniversary != Celebrate.OFF:
        dates.append((joined.month, joined.day, joined.year))
    best: date | None = None
    # A celebration shifted across New Year's Eve is announced in the year next to its own.
    for year in range(on_or_after.year - 1, on_or_after.year + 2):
        for month, day, since in dates:
            if since is not None and since >= year:
                continue
            source = celebration_date(month=month, day=day, year=year, leap_day_policy=workspace.leap_day_policy)
            announced = shift(source, policy=workspace.celebration_shift, is_workday=is_workday)
            if announced >= on_or_after and (best is None or announced < best):
                best = announced
    return best


class NextGreeting(NamedTuple):
    zone: str
    local_date: date
    next_run_at: datetime


def next_greeting(
    person: Person,
    workspace: Workspace,
    *,
    at: time,
    on_or_after: date | None,
    now: datetime,
    is_workday: IsWorkday,
    after: date | None = None,
) -> NextGreeting | None:
    """The person's next greeting: from ``on_or_after`` (default: their local today), or after ``after``."""
    zone = person_zone(person, workspace)
    tz = ZoneInfo(zone)
    if after is not None:
        on_or_after = after + timedelta(days=1)
    elif on_or_after is None:
        on_or_after = utc_to_local(now, tz).date()
    day = next_greeting_date(person, workspace, on_or_after=on_or_after, is_workday=is_workday)
    if day is None:
        return None
    return NextGreeting(zone, day, local_to_utc(datetime.combine(day, at), tz))


def schedule_for(
    person: Person,
    workspace: Workspace,
    *,
    at: time,
    on_or_after: date | None,
    now: datetime,
    is_workday: IsWorkday,
    after: date | None = None,
) -> GreetingSchedule | None:
    """The person's next row (``next_greeting`` as an unsaved ``GreetingSchedule``)."""
    found = next_greeting(
        person, workspace, at=at, on_or_after=on_or_after, now=now, is_workday=is_workday, after=after
    )
    if found is None:
        return None
    return GreetingSchedule(
        person=person,
        workspace=workspace,
        zone=found.zone,
        local_date=found.local_date,
        next_run_at=found.next_run_at,
    )


def _fresh_start(person: Person, workspace: Workspace, existing: date | None, now: datetime) -> date:
    """Counting from the person's local today, unless their row already lies beyond today (then
    today's greeting went out: counting from tomorrow keeps a settings change from sending it twice
    under a new key)."""
    today = utc_to_local(now, ZoneInfo(person_zone(person, workspace))).date()
    return today + timedelta(days=1) if existing is not None and existing > today else today


@transaction.atomic
def greeting_schedule_rebuild(*, workspace: Workspace, now: datetime | None = None) -> int:
    """Recomputes every person's row of the workspace (or drops them all when the setting is off);
    returns the rows written."""
    now = now or timezone.now()
    if not workspace.greet_in_own_zone:
        GreetingSchedule.objects.filter(workspace=workspace).delete()
        return 0
    existing = dict(GreetingSchedule.objects.filter(workspace=workspace).values_list("person_id", "local_date"))
    at = greeting_time(workspace, digest_of(workspace))
    is_workday = calendar_of(workspace)
    rows: list[GreetingSchedule] = []
    people = Person.objects.filter(Q(birth_month__isnull=False) | Q(joined_on__isnull=False), workspace=workspace)
    for person in people.iterator(chunk_size=REBUILD_CHUNK):
        start = _fresh_start(person, workspace, existing.get(person.pk), now)
        row = schedule_for(person, workspace, at=at, on_or_after=start, now=now, is_workday=is_workday)
        if row is not None:
            rows.append(row)
    GreetingSchedule.objects.filter(workspace=workspace).delete()
    GreetingSchedule.objects.bulk_create(rows, batch_size=REBUILD_CHUNK)
    return len(rows)


def greeting_schedule_person_sync(*, person: Person, now: datetime | None = None) -> None:
    """Keeps one person's row in step with their dates, zone and choices (after every save)."""
    workspace = person.workspace
    if not workspace.greet_in_own_zone:
        return
    now = now or timezone.now()
    existing = GreetingSchedule.objects.filter(person=person).values_list("local_date", flat=True).first()
    start = _fresh_start(person, workspace, existing, now)
    row = schedule_for(
        person,
        workspace,
        at=greeting_time(workspace, digest_of(workspace)),
        on_or_after=start,
        now=now,
        is_workday=calendar_of(workspace),
    )
    if row is None:
        GreetingSchedule.objects.filter(person=person).delete()
        return
    GreetingSchedule.objects.update_or_create(
        person=person,
        defaults={
            "workspace": workspace,
            "zone": row.zone,
            "local_date": row.local_date,
            "next_run_at": row.next_run_at,
        },
    )


@transaction.atomic
def greeting_schedule_people_sync(
    *, workspace: Workspace, person_ids: Collection[Any], now: datetime | None = None
) -> int:
    """:func:`greeting_schedule_person_sync` for many people of ``workspace`` at once (written in
    bulk): their rows recomputed from what they are now, dropped for whoever is no longer greeted.
    One statement for the digest's time, then four per ``REBUILD_CHUNK`` people (their rows, the
    people, the rows dropped, one upsert), never one per person. Returns the rows written."""
    if not workspace.greet_in_own_zone:
        return 0
    now = now or timezone.now()
    at = greeting_time(workspace, digest_of(workspace))
    is_workday = calendar_of(workspace)
    ids = list(dict.fromkeys(person_ids))
    written = 0
    for start in range(0, len(ids), REBUILD_CHUNK):
        chunk = ids[start : start + REBUILD_CHUNK]
        rows_of_chunk = GreetingSchedule.objects.filter(workspace=workspace, person_id__in=chunk)
        existing = dict(rows_of_chunk.values_list("person_id", "local_date"))
        rows: list[GreetingSchedule] = []
        for person in Person.objects.filter(workspace=workspace, pk__in=chunk):
            start_on = _fresh_start(person, workspace, existing.get(person.pk), now)
            row = schedule_for(person, workspace, at=at, on_or_after=start_on, now=now, is_workday=is_workday)
            if row is not None:
                rows.append(row)
        rows_of_chunk.exclude(person_id__in=[row.person_id for row in rows]).delete()
        if rows:
            GreetingSchedule.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["person"],
                update_fields=["zone", "local_date", "next_run_at"],
            )
        written += len(rows)
    return written


def greeting_schedule_disable(*, workspace: Workspace, now: datetime | None = None) -> int:
    """The setting switched off: the digests from the workspace's local tomorrow greet everyone
    again, so only the rows for those dates go. Rows for today or earlier still fire (today's
    digest has left their greetings to them) and are then dropped."""
    now = now or timezone.now()
    today = utc_to_local(now, ZoneInfo(workspace.timezone)).date()
    deleted, _ = GreetingSchedule.objects.filter(workspace=workspace, local_date__gt=today).delete()
    return deleted


def workspace_changed(workspace: Workspace, before: Mapping[str, Any]) -> None:
    """A ``workspaces.lifecycle`` step: the schedule follows the setting and the settings it reads."""
    if all(before.get(name) == getattr(workspace, name) for name in SCHEDULE_SETTINGS):
        return
    if workspace.greet_in_own_zone:
        greeting_schedule_rebuild(workspace=workspace)
    elif before.get("greet_in_own_zone"):
        greeting_schedule_disable(workspace=workspace)


def workspace_created(workspace: Workspace) -> None:
    if workspace.greet_in_own_zone:
        greeting_schedule_rebuild(workspace=workspace)


def people_written(workspace: Workspace, person_ids: Collection[Any]) -> None:
    """A ``workspaces.lifecycle`` people step: people written in bulk (an import, ``sync_birthdays``,
    a profile copied to its people) get their rows as a save would have given them."""
    if workspace.greet_in_own_zone:
        greeting_schedule_people_sync(workspace=workspace, person_ids=person_ids)


# --- what the digest leaves to the schedule -------------------------------------------------


def pending_greetings(pairs: Iterable[tuple[Workspace, Celebrations]]) -> dict:
    """``person id → the date their row stands for``, for the people celebrated in the workspaces
    greeting in each person's zone: a row for the day or later means the greeting is the row's
    (still to come, or sent already and the row moved on)."""
    people = {
        celebration.person.pk
        for workspace, celebrations in pairs
        if workspace.greet_in_own_zone
        for celebration in (*celebrations.birthdays, *celebrations.anniversaries)
    }
    if not people:
        return {}
    return dict(GreetingSchedule.objects.filter(person_id__in=people).values_list("person_id", "local_date"))


def without_pending(celebrations: Celebrations, pending: dict) -> Celebrations:
    """The celebrations whose greeting the digest still sends itself: people without a row, or
    whose row lies behind the day (it did not move on: written in bulk, or stale)."""
    if not pending:
        return celebrations
    day = celebrations.day

    def digests(celebration) -> bool:
        row_date = pending.get(celebration.person.pk)
        return row_date is None or row_date < day

    return Celebrations(
        day=day,
        birthdays=[c for c in celebrations.birthdays if digests(c)],
        anniversaries=[c for c in celebrations.anniversaries if digests(c)],
    )


def greeting_slot_instant(row: GreetingSchedule, at: time) -> datetime:
    """When ``row`` is due with the digest's current time (it may have moved since the row was written)."""
    return local_to_utc(datetime.combine(row.local_date, at), ZoneInfo(row.zone))


def is_missed(row: GreetingSchedule, *, due: datetime, now: datetime, grace: timedelta) -> bool:
    """The digest's rule in the person's zone: older than the grace period, or their local day has ended."""
    return now - due > grace or utc_to_local(now, ZoneInfo(row.zone)).date() > row.local_date
