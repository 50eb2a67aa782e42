"""Upcoming lists show the day the digest announces a celebration (weekends and holidays moved by the
workspace's policy), leave out kinds celebrated "off", and show private ones to admins only."""

import uuid
from datetime import UTC, date, datetime

import pytest
import time_machine

from birthdaybuddy.timerules.workdays import workday_calendar
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.birthdays import BIRTHDAY, PersonDates, upcoming_celebrations
from workspaces.models import Role

FRIDAY = date(2026, 7, 10)


def person(name, *, month, day, birthday="public", anniversary="public", joined_on=None) -> PersonDates:
    return PersonDates(uuid.uuid4(), name, "", None, month, day, None, False, joined_on, birthday, anniversary)


def listed(rows) -> list[tuple[str, date, date, bool]]:
    return [(row.name, row.date, row.announced, row.private) for row in rows]


@pytest.mark.parametrize(
    ("policy", "announced"),
    [
        ("on_day", date(2026, 7, 11)),
        ("working_day_before", date(2026, 7, 10)),
        ("next_working_day", date(2026, 7, 13)),
    ],
)
def test_a_saturday_birthday_is_listed_with_the_day_it_is_announced(policy, announced):
    rows = upcoming_celebrations(
        [person("Sam", month=7, day=11)],
        today=FRIDAY,
        leap_day_policy="feb28",
        days=30,
        shift_policy=policy,
        is_workday=workday_calendar(),
    )
    assert listed(rows) == [("Sam", date(2026, 7, 11), announced, False)]


def test_a_holiday_moves_the_announcement_too():
    # Good Friday 2026 (3 April) is a holiday in Germany: a Saturday birthday goes to Thursday.
    rows = upcoming_celebrations(
        [person("Sam", month=4, day=4)],
        today=date(2026, 4, 1),
        leap_day_policy="feb28",
        days=10,
        shift_policy="working_day_before",
        is_workday=workday_calendar("DE"),
    )
    assert listed(rows) == [("Sam", date(2026, 4, 4), date(2026, 4, 2), False)]


def test_last_saturdays_birthday_still_to_be_announced_on_monday_is_listed_on_sunday():
    rows = upcoming_celebrations(
        [person("Sam", month=7, day=11)],
        today=date(2026, 7, 12),
        leap_day_policy="feb28",
        days=7,
        shift_policy="next_working_day",
    )
    assert [(row.date, row.announced, row.days_until) for row in rows] == [(date(2026, 7, 11), date(2026, 7, 13), -1)]
    # Under "on the day" it was yesterday's: nothing left to announce.
    assert (
        upcoming_celebrations([person("Sam", month=7, day=11)], today=date(2026, 7, 12), leap_day_policy="feb28") == []
    )


def test_off_kinds_are_left_out_and_private_ones_marked():
    people = [
        person("Off", month=7, day=14, birthday="off", joined_on=date(2020, 7, 14)),
        person("Priv", month=7, day=15, birthday="private"),
        person("Quiet", month=7, day=16, birthday="off", anniversary="off", joined_on=date(2020, 7, 16)),
    ]
    rows = upcoming_celebrations(people, today=FRIDAY, leap_day_policy="feb28", days=30)
    assert [(row.name, row.kind, row.private) for row in rows] == [
        ("Off", "anniversary", False),
        ("Priv", BIRTHDAY, True),
    ]


# --- the API ------------------------------------------------------------------------------------


@pytest.fixture
def team(db):
    workspace = WorkspaceFactory(timezone="UTC", celebration_shift="next_working_day")
    admin, member = UserFactory(), UserFactory()
    MembershipFactory(workspace=workspace, user=admin, role=Role.ADMIN)
    MembershipFactory(workspace=workspace, user=member, role=Role.MEMBER)
    PersonFactory(workspace=workspace, name="Sam Saturday", birth_month=7, birth_day=11, birth_year=None)
    PersonFactory(
        workspace=workspace,
        name="Pri Private",
        birth_month=7,
        birth_day=14,
        birth_year=None,
        celebrate_birthday="private",
    )
    PersonFactory(workspace=workspace, name="Oz Off", birth_month=7, birth_day=15, celebrate_birthday="off")
    return workspace, admin, member


def rows_for(user, workspace) -> list[dict]:
    url = f"/api/v1/workspaces/{workspace.pk}/birthdays/?days=14"
    response = client_for(user).get(url)
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.django_db
def test_the_api_shows_the_announcement_day_and_private_celebrations_to_admins_only(team):
    workspace, admin, member = team
    with time_machine.travel(datetime(2026, 7, 9, 12, tzinfo=UTC), tick=False):
        check_rows(workspace, admin, member)


def check_rows(workspace, admin, member):
    admin_rows = rows_for(admin, workspace)
    assert [(r["person"]["name"], r["date"], r["announced_on"], r["private"]) for r in admin_rows] == [
        ("Sam Saturday", "2026-07-11", "2026-07-13", False),
        ("Pri Private", "2026-07-14", "2026-07-14", True),
    ]
    member_rows = rows_for(member, workspace)  # served from the cache the admin's read filled
    assert [(r["person"]["name"], r["announced_on"]) for r in member_rows] == [("Sam Saturday", "2026-07-13")]
    assert rows_for(admin, workspace) == admin_rows
