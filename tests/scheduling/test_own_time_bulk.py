"""Each person's own time for people written in bulk: the CSV import, ``sync_birthdays``, a profile
copied to its people, a queryset's delete. Their greeting rows follow in the same transaction."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import user_profile_update
from scheduling.models import GreetingSchedule
from scheduling.tick import tick
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from tests.scheduling.test_own_time import LA, at, greeted, own_time_workspace, settle_digest
from workspaces.importing import people_import
from workspaces.models import Person
from workspaces.sync import person_sync_from_members

BERLIN = "Europe/Berlin"
NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
HEADER = "name,email,birthday,joined_on"


def import_rows(workspace, *lines: str, now: datetime = NOW):
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    with time_machine.travel(now, tick=False):
        return people_import(workspace=workspace, data=data, today=now.date())


def rows(workspace) -> dict[str, tuple[str, date, datetime]]:
    found = GreetingSchedule.objects.filter(workspace=workspace).select_related("person")
    return {row.person.name: (row.zone, row.local_date, row.next_run_at) for row in found}


def no_dates(**extra) -> dict:
    return {"birth_month": None, "birth_day": None, "joined_on": None, **extra}


@pytest.mark.django_db
def test_imported_people_are_greeted_at_the_digests_time_in_their_own_zone(make_workspace):
    """GIVEN a Berlin workspace greeting in each person's zone, and Lee (Los Angeles) without dates
    WHEN a file gives Ana a birthday, Lee one, Jo a start date and Nil nothing
    THEN Ana, Lee and Jo have their rows at 09:00 in their zone on their day (Nil none), and on
    4 July the team's post leaves Lee's greeting to 09:00 in Los Angeles: she is greeted once, then."""
    workspace = own_time_workspace(make_workspace, tz=BERLIN, now=NOW)
    PersonFactory(workspace=workspace, name="Lee", email="lee@example.com", timezone=LA, **no_dates())
    assert rows(workspace) == {}

    result = import_rows(
        workspace,
        "Ana,ana@example.com,1990-06-10,",
        "Lee,lee@example.com,--07-04,",
        "Jo,jo@example.com,,2020-06-20",
        "Nil,nil@example.com,,",
    )

    assert (result.created, result.updated) == (3, 1)
    assert rows(workspace) == {
        "Ana": (BERLIN, date(2027, 6, 10), at(date(2027, 6, 10), time(9), BERLIN)),
        "Lee": (LA, date(2027, 7, 4), at(date(2027, 7, 4), time(9), LA)),
        "Jo": (BERLIN, date(2027, 6, 20), at(date(2027, 6, 20), time(9), BERLIN)),
    }
    july_4 = date(2027, 7, 4)
    tick(now=settle_digest(workspace, july_4) + timedelta(seconds=5))
    assert greeted() == {}
    tick(now=at(july_4, time(9), LA) + timedelta(seconds=5))
    assert greeted() == {"Lee": 1}


@pytest.mark.django_db
def test_an_import_changing_a_date_moves_the_row(make_workspace):
    workspace = own_time_workspace(make_workspace, tz=BERLIN, now=NOW)
    PersonFactory(workspace=workspace, name="Lee", email="lee@example.com", timezone=LA, **no_dates())
    import_rows(workspace, "Ana,ana@example.com,1990-06-10,", "Lee,lee@example.com,--07-04,")

    import_rows(workspace, "Ana,ana@example.com,1990-08-15,", "Lee,lee@example.com,,2019-06-05")

    assert rows(workspace) == {
        "Ana": (BERLIN, date(2027, 8, 15), at(date(2027, 8, 15), time(9), BERLIN)),
        # the start date comes before the kept birthday
        "Lee": (LA, date(2027, 6, 5), at(date(2027, 6, 5), time(9), LA)),
    }
    # Her name changed on her day, after her greeting moved the row on: counted from her tomorrow,
    # so the row goes to her birthday, never back to today's greeting under a new key.
    GreetingSchedule.objects.filter(person__name="Lee").update(
        local_date=date(2028, 6, 5), next_run_at=at(date(2028, 6, 5), time(9), LA)
    )
    import_rows(workspace, "Lee Li,lee@example.com,,", now=at(date(2027, 6, 5), time(12), LA))
    assert rows(workspace)["Lee Li"] == (LA, date(2027, 7, 4), at(date(2027, 7, 4), time(9), LA))


@pytest.mark.django_db
def test_an_import_into_a_workspace_greeting_with_the_team_writes_no_row(make_workspace):
    workspace = make_workspace(tz=BERLIN)
    assert not workspace.greet_in_own_zone
    import_rows(workspace, "Ana,ana@example.com,1990-06-10,", "Jo,jo@example.com,,2020-06-20")
    assert Person.objects.filter(workspace=workspace).count() == 2
    assert not GreetingSchedule.objects.exists()


@pytest.mark.django_db
def test_an_imports_statements_do_not_grow_with_its_people(make_workspace):
    """Creating, then changing, 3 or 30 people takes the same statements, rows included (30: on
    SQLite one of Django's bulk inserts takes at most 999 parameters, 39 people)."""
    counts = []
    for size in (3, 30):
        workspace = own_time_workspace(make_workspace, tz=BERLIN, now=NOW)
        created = [f"P{n},p{n}-{size}@example.com,1990-06-{n % 28 + 1:02d}," for n in range(size)]
        changed = [f"P{n},p{n}-{size}@example.com,1990-07-{n % 28 + 1:02d}," for n in range(size)]
        measured = []
        for lines in (created, changed):
            with CaptureQueriesContext(connection) as queries:
                import_rows(workspace, *lines)
            measured.append(len(queries))
        counts.append(measured)
        assert {row[1].month for row in rows(workspace).values()} == {7}
        assert len(rows(workspace)) == size
    assert counts[0] == counts[1]


@pytest.mark.django_db
def test_sync_birthdays_and_a_profiles_copy_keep_the_rows(make_workspace):
    """``sync_birthdays`` creates Mia's person from her profile with her row; her new date of birth,
    copied to her person in bulk, moves it."""
    workspace = own_time_workspace(make_workspace, tz=BERLIN, now=NOW)
    mia = UserFactory(first_name="Mia", last_name="Moss", date_of_birth=date(1991, 6, 20))
    MembershipFactory(workspace=workspace, user=mia)

    with time_machine.travel(NOW, tick=False):
        person_sync_from_members(workspace=workspace)
    assert rows(workspace)["Mia Moss"] == (BERLIN, date(2027, 6, 20), at(date(2027, 6, 20), time(9), BERLIN))

    with time_machine.travel(NOW, tick=False):
        user_profile_update(user=mia, data={"date_of_birth": date(1991, 9, 2)})
    assert rows(workspace)["Mia Moss"] == (BERLIN, date(2027, 9, 2), at(date(2027, 9, 2), time(9), BERLIN))


@pytest.mark.django_db
def test_people_deleted_with_a_queryset_take_their_rows_along(make_workspace):
    workspace = own_time_workspace(make_workspace, tz=BERLIN, now=NOW)
    import_rows(workspace, "Ana,ana@example.com,1990-06-10,", "Jo,jo@example.com,,2020-06-20")
    assert set(rows(workspace)) == {"Ana", "Jo"}
    Person.objects.filter(workspace=workspace, name="Ana").delete()
    assert set(rows(workspace)) == {"Jo"}
