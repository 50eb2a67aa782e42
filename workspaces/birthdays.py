"""Upcoming birthdays and work anniversaries of a workspace's people (reads only).

``upcoming_celebrations`` is pure: people in, dated rows out. ``birthday_list_upcoming``
runs it for a workspace on its local "today" with one SQL query and caches the rows (see
``workspaces.cache``); ``birthday_rows_for_viewer`` applies the per-caller privacy rule
afterwards, so one cached answer serves every caller. ``birthday_page`` caches one page
of them as the API renders it (for every audience at once), so a warm API read costs one
cache round trip and no rendering.

The date arithmetic (Feb 29 in common years) is ``birthdaybuddy.timerules.recurrence``'s, and the
day a celebration is announced (the workspace's weekend/holiday policy) ``timerules.workdays``': only
those pure modules are imported, never scheduling's models or services — so the list shows the day
the digest will announce each celebration, as the digest decides it.

A kind a person celebrates "off" is not listed at all; a "private" one (a personal greeting, no
team post) is listed only to those who may see the team's settings — owners, admins, staff — and,
on the Slack surfaces, to the person themself: everyone else would learn a date the person chose
not to share with the team.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import Q
from django.utils import timezone as dj_timezone

from birthdaybuddy.timerules.recurrence import celebration_date, utc_to_local, zone
from birthdaybuddy.timerules.workdays import ON_DAY, IsWorkday, shift, workday_calendar
from workspaces import cache as bb_cache
from workspaces.models import ADMIN_ROLES, Celebrate, Person, Workspace
from workspaces.selectors import person_birth_year_visible

BIRTHDAY = "birthday"
ANNIVERSARY = "anniversary"
KINDS = (BIRTHDAY, ANNIVERSARY)
DEFAULT_DAYS = 30
MAX_DAYS = 366
# Part of the cache keys: change them when ``Upcoming`` (rows) or what ``birthday_page`` caches
# (pages) changes shape, so a deploy never reads old entries.
ROWS_FORMAT = "r3"
PAGE_FORMAT = "p2"
# A celebration moved off a weekend or holiday run is announced at most this many days away
# from its date (the people query looks this far beyond the window).
SHIFT_MARGIN_DAYS = 14

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
    "celebrate_birthday",
    "celebrate_anniversary",
)


Day = date  # for the fields declared after ``Upcoming.date``, which shadows the name


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
    celebrate_birthday: str = Celebrate.PUBLIC
    celebrate_anniversary: str = Celebrate.PUBLIC


class Upcoming(NamedTuple):
    """One upcoming celebration, before the privacy step. ``years``: the age turned (birthday,
    None without a birth year) or the years since joining (anniversary). ``announced``: the day
    the digest announces it (``date`` unless a weekend or holiday moves it); ``private``: the
    person is greeted personally only, with no team post."""

    date: date
    days_until: int
    kind: str
    person_id: UUID
    name: str
    slack_user_id: str
    user_id: UUID | None
    show_age: bool
    years: int | None
    announced: Day | None = None
    private: bool = False


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
    shift_policy: str = ON_DAY,
    is_workday: IsWorkday | None = None,
) -> list[Upcoming]:
    """Each person's next birthday and work anniversary inside the window, in date order.

    A Feb 29 date falls on Feb 28 or Mar 1 in common years, by ``leap_day_policy``. An
    anniversary is listed only from the first year on (``years > 0``). Each row says the day
    it is announced, by the weekend/holiday ``shift_policy`` and ``is_workday`` (default:
    Monday to Friday); a row is listed when its date or that day is inside the window (a
    Saturday birthday announced on Friday shows on Friday's list too). A kind celebrated
    "off" is left out; a "private" one is marked.
    """
    start, end = window_of(today=today, days=days, month=month)
    is_workday = is_workday or workday_calendar()
    rows: list[Upcoming] = []

    def add(when: date, kind_: str, years: int | None, person: PersonDates, celebrate: str) -> None:
        # The last occurrence may still be announced ahead (moved to the next working day).
        for candidate in (when, _previous(when, kind_, person, leap_day_policy)):
            if candidate is None:
                continue
            announced = shift(candidate, policy=shift_policy, is_workday=is_workday)
            if start <= candidate <= end or (start <= announced <= end and candidate <= end):
                if candidate != when:
                    years = None if years is None else years - 1
                common = (person.id, person.name, person.slack_user_id or "", person.user_id)
                row = Upcoming(candidate, (candidate - today).days, kind_, *common, person.show_age, years)
                rows.append(row._replace(announced=announced, private=celebrate == Celebrate.PRIVATE))
                return

    for person in people:
        birthday_on = person.celebrate_birthday != Celebrate.OFF
        if kind in (None, BIRTHDAY) and birthday_on and person.birth_month is not None and person.birth_day is not None:
            when = _next_celebration(person.birth_month, person.birth_day, today=today, policy=leap_day_policy)
            age = when.year - person.birth_year if person.birth_year else None
            add(when, BIRTHDAY, age, person, person.celebrate_birthday)
        anniversary_on = person.celebrate_anniversary != Celebrate.OFF
        if kind in (None, ANNIVERSARY) and anniversary_on and person.joined_on is not None:
            joined = person.joined_on
            when = _next_celebration(joined.month, joined.day, today=today, policy=leap_day_policy)
            if when.year <= joined.year:  # joined this year or not yet: the first anniversary is next
                when = celebration_date(
                    month=joined.month, day=joined.day, year=joined.year + 1, leap_day_policy=leap_day_policy
                )
            if when.year - joined.year > 0:
                add(when, ANNIVERSARY, when.year - joined.year, person, person.celebrate_anniversary)
    rows = [row for row in rows if row.kind != ANNIVERSARY or (row.years or 0) > 0]
    rows.sort(key=lambda row: (row.date, KINDS.index(row.kind), row.name.casefold(), row.person_id))
    return rows


def _previous(when: date, kind: str, person: PersonDates, leap_day_policy: str) -> date | None:
    """The occurrence a year before ``when`` (it may be announced after today when moved forward)."""
    if kind == BIRTHDAY and person.birth_month is not None and person.birth_day is not None:
        month, day = person.birth_month, person.birth_day
    elif kind == ANNIVERSARY and person.joined_on is not None:
        month, day = person.joined_on.month, person.joined_on.day
    else:
        return None
    return celebration_date(month=month, day=day, year=when.year - 1, leap_day_policy=leap_day_policy)


def _months_in(start: date, end: date) -> set[int]:
    months: set[int] = set()
    cursor = date(start.year, start.month, 1)
    while cursor <= end and len(months) < 12:
        months.add(cursor.month)
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    return months


def _people_query(*, workspace: Workspace, start: date, end: date, kind: str | None):
    """A superset of the people celebrating inside the window: one query, narrowed by month."""
    birthdays = Q(birth_month__isnull=False, birth_day__isnull=False) & ~Q(celebrate_birthday=Celebrate.OFF)
    anniversaries = Q(joined_on__isnull=False) & ~Q(celebrate_anniversary=Celebrate.OFF)
    margin = timedelta(days=SHIFT_MARGIN_DAYS)
    months = _months_in(start - margin, end + margin)
    if len(months) < 12:
        if 3 in months:
            months.add(2)  # Feb 29 is celebrated on Mar 1 under the "mar1" policy
        birthdays &= Q(birth_month__in=months)
        anniversaries &= Q(joined_on__month__in=months)
    condition = {BIRTHDAY: birthdays, ANNIVERSARY: anniversaries}.get(kind, birthdays | anniversaries)
    return Person.objects.for_workspace(workspace).celebrated().filter(condition).values_list(*PERSON_FIELDS)


def _window_parts(workspace: Workspace, *, today: date, days: int | None, month: int | None, kind: str | None):
    """What a cached answer depends on besides the workspace's version."""
    return (
        today.isoformat(),
        workspace.timezone,
        workspace.leap_day_policy,
        workspace.celebration_shift,
        workspace.holiday_country,
        workspace.holiday_region,
        days,
        month,
        kind,
    )


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
        people,
        today=today,
        leap_day_policy=workspace.leap_day_policy,
        days=days,
        month=month,
        kind=kind,
        shift_policy=workspace.celebration_shift,
        is_workday=workday_calendar(workspace.holiday_country, workspace.holiday_region),
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
    with_private: bool = True,
) -> tuple[int, Any]:
    """``(count, rendered)``: how many celebrations ``birthday_list_upcoming`` lists, and page
    ``page`` of them as ``render`` makes it, cached as rendered beside the rows.

    ``paginate`` is the caller's paginator: given the whole sequence it returns the page
    (raising if there is no such page) and keeps what it needs for its links. On a cache
    hit it is given ``range(count)``, so it still sees the count and the page number.
    ``render`` must return a picklable value that serves every caller (the per-caller
    privacy step comes after). ``page=None``: a page named otherwise than by its number
    (``last``), not cached. Invalidated with the rows, by the workspace's version.
    ``with_private``: whether private celebrations are listed (see
    :func:`sees_private_celebrations`); each audience has its own pages.
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
                with_private,
            ),
        )
        version, cached = bb_cache.birthdays_read(workspace.pk, key)
        if cached is not None:
            count, rendered = cached
            paginate(range(count))
            return count, rendered
    rows = _cached_rows(workspace=workspace, today=today, days=days, month=month, kind=kind, version=version)
    if not with_private:
        rows = [row for row in rows if not row.private]
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
        "announced_on": (row.announced or row.date).isoformat(),
        "private": row.private,
    }
    if row.kind == BIRTHDAY:
        item["age"] = row.years if age_visible else None
        item["years"] = None
    else:
        item["age"] = None
        item["years"] = row.years
    return item


def sees_private_celebrations(*, viewer, viewer_role: str | None) -> bool:
    """Whether ``viewer`` sees everyone's private celebrations in the lists: owners, admins, staff."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    return bool(viewer.is_staff or viewer_role in ADMIN_ROLES)


def birthday_rows_for_viewer(
    rows: Sequence[Upcoming], *, viewer, viewer_role: str | None, own_person_id: UUID | None = None
) -> list[dict]:
    """The API rows as ``viewer`` may see them: a birthday's age only where the birth year is
    visible to them (the People API's rule, ``person_birth_year_visible``); a private
    celebration only to owners, admins and staff, and to the person ``own_person_id`` (the
    viewer's own, where the surface knows it: Slack)."""
    everyone = sees_private_celebrations(viewer=viewer, viewer_role=viewer_role)
    rows = [row for row in rows if not row.private or everyone or row.person_id == own_person_id]
    return [
        birthday_row_item(
            row,
            age_visible=row.kind == BIRTHDAY
            and row.years is not None
            and person_birth_year_visible(person=row, viewer=viewer, viewer_role=viewer_role),
        )
        for row in rows
    ]
