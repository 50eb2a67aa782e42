"""The upcoming-celebrations computation: windows, months, leap days, anniversaries, local today."""

import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine

from tests.factories import PersonFactory, WorkspaceFactory
from workspaces.birthdays import (
    ANNIVERSARY,
    BIRTHDAY,
    PersonDates,
    birthday_list_upcoming,
    upcoming_celebrations,
    window_of,
    workspace_today,
)
from workspaces.models import LeapDayPolicy


def person(name="P", *, month=None, day=None, year=None, joined_on=None, show_age=False) -> PersonDates:
    return PersonDates(uuid.uuid4(), name, "", None, month, day, year, show_age, joined_on)


def dates(rows) -> list[tuple[str, str, date]]:
    return [(row.name, row.kind, row.date) for row in rows]


# --- windows ------------------------------------------------------------------------------


def test_window_is_days_from_today_inclusive():
    assert window_of(today=date(2026, 12, 20), days=1, month=None) == (date(2026, 12, 20), date(2026, 12, 20))
    assert window_of(today=date(2026, 12, 20), days=30, month=None) == (date(2026, 12, 20), date(2027, 1, 18))


def test_month_window_is_the_next_occurrence_of_the_month():
    today = date(2026, 12, 20)
    assert window_of(today=today, days=None, month=12) == (date(2026, 12, 20), date(2026, 12, 31))
    assert window_of(today=today, days=None, month=1) == (date(2027, 1, 1), date(2027, 1, 31))
    assert window_of(today=today, days=None, month=2) == (date(2027, 2, 1), date(2027, 2, 28))
    assert window_of(today=date(2026, 3, 5), days=None, month=2) == (date(2027, 2, 1), date(2027, 2, 28))
    # days narrows the month further
    assert window_of(today=today, days=15, month=1) == (date(2027, 1, 1), date(2027, 1, 3))


def test_ordering_across_the_year_end():
    people = [
        person("Jan", month=1, day=3),
        person("Eve", month=12, day=31),
        person("Today", month=12, day=20),
        person("Gone", month=12, day=19),
    ]

    rows = upcoming_celebrations(people, today=date(2026, 12, 20), leap_day_policy="feb28", days=30)

    assert [(row.name, row.date, row.days_until) for row in rows] == [
        ("Today", date(2026, 12, 20), 0),
        ("Eve", date(2026, 12, 31), 11),
        ("Jan", date(2027, 1, 3), 14),
    ]


def test_366_days_list_everyone_once():
    people = [person(f"M{m}", month=m, day=1) for m in range(1, 13)] + [person("Leap", month=2, day=29)]
    rows = upcoming_celebrations(people, today=date(2027, 3, 2), leap_day_policy="feb28", days=366)
    assert len(rows) == 13
    assert rows[-1].name == "M3"
    assert rows[-1].date == date(2028, 3, 1)
    assert rows[-1].days_until == 365


def test_same_day_orders_birthdays_first_then_by_name():
    people = [
        person("bo", month=5, day=1),
        person("Al", joined_on=date(2020, 5, 1)),
        person("Ann", month=5, day=1),
    ]
    rows = upcoming_celebrations(people, today=date(2026, 5, 1), leap_day_policy="feb28", days=1)
    assert [(row.name, row.kind) for row in rows] == [("Ann", BIRTHDAY), ("bo", BIRTHDAY), ("Al", ANNIVERSARY)]


# --- leap days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "policy", "expected"),
    [
        (date(2027, 2, 1), "feb28", date(2027, 2, 28)),
        (date(2027, 2, 1), "mar1", date(2027, 3, 1)),
        (date(2028, 2, 1), "feb28", date(2028, 2, 29)),
        (date(2028, 2, 1), "mar1", date(2028, 2, 29)),
    ],
)
def test_feb_29_birthdays_and_anniversaries(today, policy, expected):
    people = [person("Leap", month=2, day=29, year=2000, show_age=True), person("Joined", joined_on=date(2016, 2, 29))]

    rows = upcoming_celebrations(people, today=today, leap_day_policy=policy, days=60)

    assert dates(rows) == [("Leap", BIRTHDAY, expected), ("Joined", ANNIVERSARY, expected)]
    assert rows[0].years == expected.year - 2000
    assert rows[1].years == expected.year - 2016


def test_feb_29_in_the_month_filter_follows_the_policy():
    leap = [person("Leap", month=2, day=29)]
    today = date(2027, 1, 10)
    assert dates(upcoming_celebrations(leap, today=today, leap_day_policy="mar1", days=None, month=3)) == [
        ("Leap", BIRTHDAY, date(2027, 3, 1))
    ]
    assert upcoming_celebrations(leap, today=today, leap_day_policy="mar1", days=None, month=2) == []
    assert dates(upcoming_celebrations(leap, today=today, leap_day_policy="feb28", days=None, month=2)) == [
        ("Leap", BIRTHDAY, date(2027, 2, 28))
    ]


# --- anniversaries, kinds, months -----------------------------------------------------------


def test_anniversary_years_and_year_zero_is_not_listed():
    people = [
        person("Six", joined_on=date(2020, 6, 20)),
        person("New", joined_on=date(2026, 6, 1)),  # next anniversary 2027-06-01: 1 year, outside 30 days
        person("JustJoined", joined_on=date(2026, 6, 15)),  # today: 0 years
        person("Future", joined_on=date(2026, 7, 1)),  # first anniversary 2027-07-01: beyond 366 days
    ]
    rows = upcoming_celebrations(people, today=date(2026, 6, 15), leap_day_policy="feb28", days=30)
    assert [(row.name, row.years) for row in rows] == [("Six", 6)]

    rows = upcoming_celebrations(people, today=date(2026, 6, 15), leap_day_policy="feb28", days=366)
    assert [(row.name, row.years) for row in rows] == [("Six", 6), ("New", 1), ("JustJoined", 1)]
    assert rows[-1].date == date(2027, 6, 15)


def test_kind_filter_and_age_without_year():
    people = [person("Both", month=6, day=20, joined_on=date(2019, 6, 21))]
    today = date(2026, 6, 15)
    assert [row.kind for row in upcoming_celebrations(people, today=today, leap_day_policy="feb28")] == [
        BIRTHDAY,
        ANNIVERSARY,
    ]
    only = upcoming_celebrations(people, today=today, leap_day_policy="feb28", kind=ANNIVERSARY)
    assert [(row.kind, row.years) for row in only] == [(ANNIVERSARY, 7)]
    birthday = upcoming_celebrations(people, today=today, leap_day_policy="feb28", kind=BIRTHDAY)
    assert [(row.kind, row.years) for row in birthday] == [(BIRTHDAY, None)]


def test_current_month_lists_only_the_dates_still_to_come():
    people = [person("Early", month=6, day=2), person("Late", month=6, day=28), person("July", month=7, day=1)]
    rows = upcoming_celebrations(people, today=date(2026, 6, 15), leap_day_policy="feb28", days=None, month=6)
    assert dates(rows) == [("Late", BIRTHDAY, date(2026, 6, 28))]


# --- the workspace's local today, through the database ------------------------------------


@pytest.mark.django_db
def test_the_workspace_zone_decides_today():
    """GIVEN the same instant, WHEN one workspace is at UTC+14 and the other at UTC-11,
    THEN their "today" differs by two days and each lists only its own today's birthday."""
    kiritimati = WorkspaceFactory(timezone="Pacific/Kiritimati")
    pago_pago = WorkspaceFactory(timezone="Pacific/Pago_Pago")
    for workspace in (kiritimati, pago_pago):
        for day in (14, 15, 16):
            PersonFactory(workspace=workspace, name=f"June {day}", birth_month=6, birth_day=day)
    instant = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)

    with time_machine.travel(instant, tick=False):
        assert workspace_today(kiritimati) == date(2026, 6, 16)
        assert workspace_today(pago_pago) == date(2026, 6, 14)
        assert [row.name for row in birthday_list_upcoming(workspace=kiritimati, days=1)] == ["June 16"]
        assert [row.name for row in birthday_list_upcoming(workspace=pago_pago, days=1)] == ["June 14"]


@pytest.mark.django_db
@pytest.mark.parametrize("policy", [LeapDayPolicy.FEB28, LeapDayPolicy.MAR1])
def test_month_narrowing_in_sql_keeps_feb_29_people(policy):
    workspace = WorkspaceFactory(leap_day_policy=policy)
    PersonFactory(workspace=workspace, name="Leap", birth_month=2, birth_day=29)
    PersonFactory(workspace=workspace, name="Joined", birth_month=None, birth_day=None, joined_on=date(2020, 2, 29))
    PersonFactory(workspace=workspace, name="Other", birth_month=8, birth_day=1)

    now = datetime(2027, 2, 20, 12, tzinfo=UTC)
    rows = birthday_list_upcoming(workspace=workspace, days=12, now=now)

    expected = date(2027, 3, 1) if policy == LeapDayPolicy.MAR1 else date(2027, 2, 28)
    assert dates(rows) == [("Leap", BIRTHDAY, expected), ("Joined", ANNIVERSARY, expected)]
    march = birthday_list_upcoming(workspace=workspace, month=3, now=now)
    assert len(march) == (2 if policy == LeapDayPolicy.MAR1 else 0)
