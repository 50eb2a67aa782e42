"""Upcoming birthdays and work anniversaries of a workspace's people (reads only).

``upcoming_celebrations`` is pure: people in, dated rows out. ``birthday_list_upcoming``
runs it for a workspace on its local "today" with one SQL query and caches the rows (see
``workspaces.cache``); ``birthday_rows_for_viewer`` applies the per-caller privacy rule
afterwards, so one cached answer serves every caller. ``birthday_page`` caches one page
of them as the API renders it (for every audience at once), so a warm API read costs one
cache round trip and no rendering.

The date arithmetic (Feb 29 in common years) is ``birthdaybuddy.timerules.recurrence``'s: only that
pure module is imported, never scheduling's models or services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.timerules.recurrence import celebration_date, utc_to_local, zone
from workspaces import cache as bb_cache
from workspaces.models import Person, Workspace
from workspaces.selectors import person_birth_year_visible

BIRTHDAY = "birthday"
ANNIVERSARY = "anniversary"
KINDS = (BIRTHDAY, ANNIVERSARY)
DEFAULT_DAYS = 30
MAX_DAYS = 366
# Part of the cache keys: change them when ``Upcoming`` (rows) or what ``birthday_page`` caches
# (pages) changes shape, so a deploy never reads old entries.
ROWS_FORMAT = "r2"
PAGE_FORMAT = "p1"

PERSON_FIELDS = (
    "id",
    "name",
    "slack_user_id",
    "user_id",
    "birth_month",
    "birth_day",
    "birth_year",
    "show_age",
    "joined_on",
)


class PersonDates(NamedTuple):
    """The fields of a Person this module needs (one ``values_list`` row)."""

    id: UUID
    name: str
    slack_user_id: str
    user_id: UUID | None
    birth_month: int | None
    birth_day: int | None
    birth_year: int | None
    show_age: bool
    joined_on: date | None


class Upcoming(NamedTuple):
    """One upcoming celebration, before the privacy step. ``years``: the age turned (birthday,
    None without a birth year) or the years since joining (anniversary)."""

    date: date
    days_until: int
    kind: str
    person_id: UUID
    name: str
    slack_user_id: str
    user_id: UUID | None
    show_age: bool
    years: int | None


def workspace_today(workspace: Workspace, *, now: datetime | None = None) -> date:
    """The workspace's local date at ``now`` (default: the current instant)."""
    return utc_to_local(now or dj_timezone.now(), zone(workspace.timezone)).date()


def _next_celebration(month: int, day: int, *, today: date, policy: str) -> date:
    this_year = celebration_date(month=month, day=day, year=today.year, leap_day_policy=policy)
    if this_year >= today:
        return this_year
    return celebration_date(month=month, day=day, year=today.year + 1, leap_day_policy=policy)


def window_of(*, today: date, days: int | None, month: int | None) -> tuple[date, date]:
    """The dates listed, ``start <= date <= end``.

    Without ``month``: ``days`` calendar days from today (today included). With ``month``:
    the next occurrence of that month (the current month from today on, if it is that
    month), narrowed to the ``days`` window when ``days`` is also given.
    """
    if month is None:
        return today, today + timedelta(days=(days or DEFAULT_DAYS) - 1)
    year = today.year if month >= today.month else today.year + 1
    start = max(today, date(year, month, 1))
    end = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)
    if days is not None:
        end = min(end, today + timedelta(days=days - 1))
    return start, end


def upcoming_celebrations(
    people: Iterable[PersonDates],
    *,
    today: date,
    leap_day_policy: str,
    days: int | None = DEFAULT_DAYS,
    month: int | None = None,
    kind: str | None = None,
) -> list[Upcoming]:
    """Each person's next birthday and work anniversary inside the window, in date order.

    A Feb 29 date falls on Feb 28 or Mar 1 in common years, by ``leap_day_policy``. An
    anniversary is listed only from the first year on (``years > 0``).
    """
    start, end = window_of(today=today, days=days, month=month)
    rows: list[Upcoming] = []
    for person in people:
        common = (person.id, person.name, person.slack_user_id or "", person.user_id)
        if kind in (None, BIRTHDAY) and person.birth_month is not None and person.birth_day is not None:
            when = _next_celebration(person.birth_month, person.birth_day, today=today, policy=leap_day_policy)
            if start <= when <= end:
                age = when.year - person.birth_year if person.birth_year else None
                rows.append(Upcoming(when, (when - today).days, BIRTHDAY, *common, person.show_age, age))
        if kind in (None, ANNIVERSARY) and person.joined_on is not None:
            joined = person.joined_on
            when = _next_celebration(joined.month, joined.day, today=today, policy=leap_day_policy)
            if when.year <= joined.year:  # joined this year or not yet: the first anniversary is next
                when = celebration_date(
                    month=joined.month, day=joined.day, year=joined.year + 1, leap_day_policy=leap_day_policy
                )
            years = when.year - joined.year
            if years > 0 and start <= when <= end:
                rows.append(Upcoming(when, (when - today).days, ANNIVERSARY, *common, person.show_age, years))
    rows.sort(key=lambda row: (row.date, KINDS.index(row.kind), row.name.casefold(), row.person_id))
    return rows


def _months_in(start: date, end: date) -> set[int]:
    months: set[int] = set()
    cursor = date(start.year, start.month, 1)
    while cursor <= end and len(months) < 12:
        months.add(cursor.month)
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    return months


def _people_query(*, workspace: Workspace, start: date, end: date, kind: str | None):
    """A superset of the people celebrating inside the window: one query, narrowed by month."""
    birthdays = Q(birth_month__isnull=False, birth_day__isnull=False)
    anniversaries = Q(joined_on__isnull=False)
    months = _months_in(start, end)
    if len(months) < 12:
        if 3 in months:
            months.add(2)  # Feb 29 is celebrated on Mar 1 under the "mar1" policy
        birthdays &= Q(birth_month__in=months)
        anniversaries &= Q(joined_on__month__in=months)
    condition = {BIRTHDAY: birthdays, ANNIVERSARY: anniversaries}.get(kind, birthdays | anniversaries)
    return Person.objects.for_workspace(workspace).celebrated().filter(condition).values_list(*PERSON_FIELDS)


def _window_parts(workspace: Workspace, *, today: date, days: int | None, month: int | None, kind: str | None):
    """What a cached answer depends on besides the workspace's version."""
    return (today.isoformat(), workspace.timezone, workspace.leap_day_policy, days, month, kind)


def _cached_rows(
    *,
    workspace: Workspace,
    today: date,
    days: int | None,
    month: int | None,
    kind: str | None,
    version: int | None = None,
) -> list[Upcoming]:
    key = bb_cache.birthdays_key(
        workspace_id=workspace.pk,
        parts=(ROWS_FORMAT, *_window_parts(workspace, today=today, days=days, month=month, kind=kind)),
    )
    version, rows = bb_cache.birthdays_read(workspace.pk, key, version=version)
    if rows is not None:
        return rows
    start, end = window_of(today=today, days=days, month=month)
    people = (PersonDates(*row) for row in _people_query(workspace=workspace, start=start, end=end, kind=kind))
    rows = upcoming_celebrations(
        people, today=today, leap_day_policy=workspace.leap_day_policy, days=days, month=month, kind=kind
    )
    if version is not None:
        bb_cache.birthdays_store(key, rows, version=version)
    return rows


def birthday_list_upcoming(
    *,
    workspace: Workspace,
    days: int | None = None,
    month: int | None = None,
    kind: str | None = None,
    now: datetime | None = None,
) -> list[Upcoming]:
    """The workspace's upcoming celebrations (see ``upcoming_celebrations``), cached.

    ``days`` defaults to 30 unless ``month`` is given. The answer is cached with the
    workspace's version, under its local date, zone, leap-day policy and the parameters;
    any write to its people, members or settings changes the version.
    """
    if days is None and month is None:
        days = DEFAULT_DAYS
    today = workspace_today(workspace, now=now)
    return _cached_rows(workspace=workspace, today=today, days=days, month=month, kind=kind)


def birthday_page(
    *,
    workspace: Workspace,
    page: int | None,
    page_size: int,
    paginate: Callable[[Sequence], Sequence],
    render: Callable[[Sequence[Upcoming]], Any],
    days: int | None = None,
    month: int | None = None,
    kind: str | None = None,
    now: datetime | None = None,
) -> tuple[int, Any]:
    """``(count, rendered)``: how many celebrations ``birthday_list_upcoming`` lists, and page
    ``page`` of them as ``render`` makes it, cached as rendered beside the rows.

    ``paginate`` is the caller's paginator: given the whole sequence it returns the page
    (raising if there is no such page) and keeps what it needs for its links. On a cache
    hit it is given ``range(count)``, so it still sees the count and the page number.
    ``render`` must return a picklable value that serves every caller (the per-caller
    privacy step comes after). ``page=None``: a page named otherwise than by its number
    (``last``), not cached. Invalidated with the rows, by the workspace's version.
    """
    if days is None and month is None:
        days = DEFAULT_DAYS
    today = workspace_today(workspace, now=now)
    key = None
    version = None
    if page is not None:
        key = bb_cache.birthdays_key(
            workspace_id=workspace.pk,
            parts=(
                PAGE_FORMAT,
                *_window_parts(workspace, today=today, days=days, month=month, kind=kind),
                page,
                page_size,
            ),
        )
        version, cached = bb_cache.birthdays_read(workspace.pk, key)
        if cached is not None:
            count, rendered = cached
            paginate(range(count))
            return count, rendered
    rows = _cached_rows(workspace=workspace, today=today, days=days, month=month, kind=kind, version=version)
    rendered = render(paginate(rows))
    if key is not None and version is not None:
        bb_cache.birthdays_store(key, (len(rows), rendered), version=version)
    return len(rows), rendered


def birthday_row_item(row: Upcoming, *, age_visible: bool) -> dict:
    """One row as the API shows it; ``age_visible``: whether the viewer may see the birth year."""
    item: dict[str, Any] = {
        "person": {"id": str(row.person_id), "name": row.name, "slack_user_id": row.slack_user_id},
        "kind": row.kind,
        "date": row.date.isoformat(),
        "days_until": row.days_until,
    }
    if row.kind == BIRTHDAY:
        item["age"] = row.years if age_visible else None
        item["years"] = None
    else:
        item["age"] = None
        item["years"] = row.years
    return item


def birthday_rows_for_viewer(rows: Sequence[Upcoming], *, viewer, viewer_role: str | None) -> list[dict]:
    """The API rows as ``viewer`` may see them: a birthday's age only where the birth year is
    visible to them (the People API's rule, ``person_birth_year_visible``)."""
    return [
        birthday_row_item(
            row,
            age_visible=row.kind == BIRTHDAY
            and row.years is not None
            and person_birth_year_visible(person=row, viewer=viewer, viewer_role=viewer_role),
        )
        for row in rows
    ]
