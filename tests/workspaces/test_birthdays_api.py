"""GET /api/v1/workspaces/{id}/birthdays/: shape, windows, parameters, privacy, caching, query counts."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, WorkspaceFactory
from tests.workspaces.helpers import assert_error
from workspaces import cache as bb_cache
from workspaces.models import Role

pytestmark = pytest.mark.django_db

ROW_KEYS = {"person", "kind", "date", "days_until", "age", "years"}
# JWT user lookup + the mixin's membership (with its workspace) + the people.
QUERIES_COLD = 3
QUERIES_WARM = 2


def birthdays_url(workspace, **params) -> str:
    url = reverse("workspace-birthday-list", kwargs={"workspace_id": workspace.id})
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def listed(response) -> list[tuple[str, str, str]]:
    return [(row["person"]["name"], row["kind"], row["date"]) for row in rows(response)]


@pytest.fixture
def june_15():
    with time_machine.travel(datetime(2026, 6, 15, 12, tzinfo=UTC), tick=False):
        yield


# --- shape and ordering -------------------------------------------------------------------


def test_member_lists_upcoming_birthdays_and_anniversaries(june_15, member_client, workspace):
    ada = PersonFactory(
        workspace=workspace, name="Ada", birth_month=6, birth_day=20, birth_year=1990, slack_user_id="U0ADA"
    )
    PersonFactory(workspace=workspace, name="Bo", birth_month=None, birth_day=None, joined_on=date(2021, 6, 16))
    PersonFactory(workspace=workspace, name="Far", birth_month=9, birth_day=1)

    body = member_client.get(birthdays_url(workspace)).json()

    assert body["count"] == 2
    assert {"count", "next", "previous", "results"} <= set(body)
    first, second = body["results"]
    assert set(first) == ROW_KEYS
    assert first == {
        "person": {"id": str(workspace.people.get(name="Bo").id), "name": "Bo", "slack_user_id": ""},
        "kind": "anniversary",
        "date": "2026-06-16",
        "days_until": 1,
        "age": None,
        "years": 5,
    }
    assert second["person"] == {"id": str(ada.id), "name": "Ada", "slack_user_id": "U0ADA"}
    assert (second["kind"], second["date"], second["days_until"]) == ("birthday", "2026-06-20", 5)
    assert second["years"] is None


def test_ordering_across_the_year_end(member, workspace):
    """GIVEN today is Dec 20, THEN Jan 3 of next year comes after Dec 31."""
    for name, month, day in [("Jan", 1, 3), ("Eve", 12, 31), ("Today", 12, 20), ("Past", 12, 19)]:
        PersonFactory(workspace=workspace, name=name, birth_month=month, birth_day=day)

    with time_machine.travel(datetime(2026, 12, 20, 9, tzinfo=UTC), tick=False):
        response = client_for(member).get(birthdays_url(workspace))

    assert listed(response) == [
        ("Today", "birthday", "2026-12-20"),
        ("Eve", "birthday", "2026-12-31"),
        ("Jan", "birthday", "2027-01-03"),
    ]
    assert [row["days_until"] for row in rows(response)] == [0, 11, 14]


def test_the_workspace_zone_decides_today(user):
    """GIVEN the same instant, Kiritimati (UTC+14) is on June 16 while Pago Pago (UTC-11) is on June 14."""
    found = {}
    with time_machine.travel(datetime(2026, 6, 15, 10, 30, tzinfo=UTC), tick=False):
        client = client_for(user)
        for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
            workspace = WorkspaceFactory(timezone=zone)
            MembershipFactory(workspace=workspace, user=user, role=Role.MEMBER)
            for day in (14, 15, 16):
                PersonFactory(workspace=workspace, name=f"June {day}", birth_month=6, birth_day=day)
            found[zone] = listed(client.get(birthdays_url(workspace, days=1)))

    assert found == {
        "Pacific/Kiritimati": [("June 16", "birthday", "2026-06-16")],
        "Pacific/Pago_Pago": [("June 14", "birthday", "2026-06-14")],
    }


@pytest.mark.parametrize(
    ("year", "policy", "expected"),
    [
        (2027, "feb28", "2027-02-28"),
        (2027, "mar1", "2027-03-01"),
        (2028, "feb28", "2028-02-29"),
        (2028, "mar1", "2028-02-29"),
    ],
)
def test_feb_29_people_follow_the_leap_day_policy(owner, workspace, year, policy, expected):
    workspace.leap_day_policy = policy
    workspace.save()
    PersonFactory(workspace=workspace, name="Leap", birth_month=2, birth_day=29, birth_year=2000)

    with time_machine.travel(datetime(year, 2, 10, 12, tzinfo=UTC), tick=False):
        response = client_for(owner).get(birthdays_url(workspace))

    assert listed(response) == [("Leap", "birthday", expected)]
    assert rows(response)[0]["age"] == year - 2000


# --- windows and filters ------------------------------------------------------------------


@pytest.fixture
def spread(workspace):
    """Birthdays on the 1st of every month, plus one on June 15 and an anniversary on June 16."""
    for month in range(1, 13):
        PersonFactory(workspace=workspace, name=f"M{month:02}", birth_month=month, birth_day=1)
    PersonFactory(workspace=workspace, name="Today", birth_month=6, birth_day=15)
    PersonFactory(workspace=workspace, name="Joined", birth_month=None, birth_day=None, joined_on=date(2020, 6, 16))
    return workspace


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"days": 1}, ["Today"]),
        ({}, ["Today", "Joined", "M07"]),
        ({"days": 17}, ["Today", "Joined", "M07"]),
        ({"days": 16}, ["Today", "Joined"]),
        ({"days": 366, "page_size": 100}, ["Today", "Joined", *[f"M{m:02}" for m in [*range(7, 13), *range(1, 7)]]]),
        ({"month": 6}, ["Today", "Joined"]),
        ({"month": 7}, ["M07"]),
        ({"month": 1}, ["M01"]),
        ({"month": 1, "days": 30}, []),
        ({"kind": "anniversary"}, ["Joined"]),
        ({"kind": "birthday", "days": 2}, ["Today"]),
        ({"month": 6, "kind": "birthday"}, ["Today"]),
    ],
)
def test_window_month_and_kind(june_15, member_client, spread, params, expected):
    response = member_client.get(birthdays_url(spread, **params))
    assert [row["person"]["name"] for row in rows(response)] == expected


def test_month_in_the_past_lists_next_years_dates(june_15, member_client, spread):
    response = member_client.get(birthdays_url(spread, month=2))
    assert listed(response) == [("M02", "birthday", "2027-02-01")]


def test_the_whole_window_is_paginated(june_15, member_client, workspace):
    PersonFactory.create_batch(60, workspace=workspace, birth_month=6, birth_day=20)

    first = member_client.get(birthdays_url(workspace)).json()
    second = member_client.get(first["next"]).json()

    assert first["count"] == 60
    assert len(first["results"]) == 50
    assert len(second["results"]) == 10
    ids = [row["person"]["id"] for row in first["results"] + second["results"]]
    assert len(set(ids)) == 60


def test_empty_parameters_mean_the_defaults(june_15, member_client, spread):
    assert rows(member_client.get(birthdays_url(spread, days="", month="", kind=""))) == rows(
        member_client.get(birthdays_url(spread))
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 367}, "days"),
        ({"days": "abc"}, "days"),
        ({"days": "1.5"}, "days"),
        ({"days": -3}, "days"),
        ({"month": 0}, "month"),
        ({"month": 13}, "month"),
        ({"month": "may"}, "month"),
        ({"kind": "wedding"}, "kind"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(member_client, workspace, params, field):
    response = member_client.get(birthdays_url(workspace, **params))
    assert_error(response, 400, field=field)


def test_outsider_gets_404_and_anonymous_401(api_client, outsider_client, workspace):
    PersonFactory(workspace=workspace, name="Secret", birth_month=6, birth_day=20)
    assert_error(outsider_client.get(birthdays_url(workspace)), 404)
    assert_error(api_client.get(birthdays_url(workspace)), 401)


def test_staff_may_read_any_workspace(june_15, staff_client, workspace):
    PersonFactory(workspace=workspace, name="Ada", birth_month=6, birth_day=20, birth_year=1990)
    assert [(row["person"]["name"], row["age"]) for row in rows(staff_client.get(birthdays_url(workspace)))] == [
        ("Ada", 36)
    ]


# --- privacy ------------------------------------------------------------------------------


@pytest.fixture
def ages(workspace, member):
    hidden = PersonFactory(workspace=workspace, name="Hidden", birth_month=6, birth_day=20, birth_year=1990)
    shown = PersonFactory(
        workspace=workspace, name="Shown", birth_month=6, birth_day=21, birth_year=1980, show_age=True
    )
    own = PersonFactory(workspace=workspace, name="Me", user=member, birth_month=6, birth_day=22, birth_year=2000)
    no_year = PersonFactory(workspace=workspace, name="NoYear", birth_month=6, birth_day=23, show_age=True)
    return hidden, shown, own, no_year


def ages_seen(client, workspace) -> dict[str, int | None]:
    return {row["person"]["name"]: row["age"] for row in rows(client.get(birthdays_url(workspace)))}


def test_member_sees_ages_only_where_allowed(june_15, member_client, workspace, ages):
    assert ages_seen(member_client, workspace) == {"Hidden": None, "Shown": 46, "Me": 26, "NoYear": None}


@pytest.mark.parametrize("client_fixture", ["owner_client", "admin_client", "staff_client"])
def test_admins_and_staff_see_every_age(june_15, request, client_fixture, workspace, ages):
    client = request.getfixturevalue(client_fixture)
    assert ages_seen(client, workspace) == {"Hidden": 36, "Shown": 46, "Me": 26, "NoYear": None}


def test_one_cached_answer_serves_each_caller_with_their_own_privacy(
    june_15, member_client, owner_client, workspace, ages, django_assert_num_queries
):
    owner_view = ages_seen(owner_client, workspace)
    with django_assert_num_queries(QUERIES_WARM):
        member_view = ages_seen(member_client, workspace)
    assert owner_view["Hidden"] == 36
    assert member_view["Hidden"] is None


def test_anniversary_years_are_shown_to_every_member(june_15, member_client, workspace):
    PersonFactory(workspace=workspace, name="Vet", birth_month=None, birth_day=None, joined_on=date(2016, 6, 30))
    PersonFactory(workspace=workspace, name="New", birth_month=None, birth_day=None, joined_on=date(2026, 6, 1))
    assert [(row["person"]["name"], row["years"]) for row in rows(member_client.get(birthdays_url(workspace)))] == [
        ("Vet", 10)
    ]


# --- caching ------------------------------------------------------------------------------


def test_second_read_is_served_from_the_cache(june_15, member_client, workspace, django_assert_num_queries):
    PersonFactory.create_batch(3, workspace=workspace, birth_month=6, birth_day=20)

    with django_assert_num_queries(QUERIES_COLD):
        first = member_client.get(birthdays_url(workspace))
    with django_assert_num_queries(QUERIES_WARM):
        second = member_client.get(birthdays_url(workspace))

    assert first.json() == second.json()
    # other parameters are another cache entry
    with django_assert_num_queries(QUERIES_COLD):
        member_client.get(birthdays_url(workspace, days=60))


@pytest.mark.parametrize("size", [5, 200])
def test_query_count_does_not_grow_with_people(
    june_15, member_client, workspace, size, django_assert_max_num_queries, django_assert_num_queries
):
    PersonFactory.create_batch(size, workspace=workspace, birth_month=6, birth_day=20, joined_on=date(2020, 6, 25))

    with django_assert_max_num_queries(QUERIES_COLD):
        body = member_client.get(birthdays_url(workspace, days=366, page_size=200)).json()
    with django_assert_num_queries(QUERIES_WARM):
        member_client.get(birthdays_url(workspace, days=366, page_size=200))

    assert body["count"] == 2 * size


def read_names(client, workspace) -> set[str]:
    return {row["person"]["name"] for row in rows(client.get(birthdays_url(workspace)))}


def test_person_create_update_delete_through_the_api_are_seen_at_once(june_15, owner_client, workspace):
    people_url = reverse("workspace-person-list", kwargs={"workspace_id": workspace.id})
    assert read_names(owner_client, workspace) == set()

    created = owner_client.post(people_url, {"name": "New", "birth_month": 6, "birth_day": 20}, format="json")
    assert created.status_code == 201
    assert read_names(owner_client, workspace) == {"New"}

    detail = reverse("workspace-person-detail", kwargs={"workspace_id": workspace.id, "pk": created.json()["id"]})
    assert owner_client.patch(detail, {"name": "Renamed", "birth_day": 21}, format="json").status_code == 200
    assert listed(owner_client.get(birthdays_url(workspace))) == [("Renamed", "birthday", "2026-06-21")]

    assert owner_client.patch(detail, {"birth_month": 12}, format="json").status_code == 200
    assert read_names(owner_client, workspace) == set()

    assert owner_client.patch(detail, {"birth_month": 6, "birth_year": 1990}, format="json").status_code == 200
    assert rows(owner_client.get(birthdays_url(workspace)))[0]["age"] == 36

    assert owner_client.delete(detail).status_code == 204
    assert read_names(owner_client, workspace) == set()


def test_membership_changes_are_seen_at_once(june_15, owner_client, workspace, django_capture_on_commit_callbacks):
    """An invitee who accepts brings their Person (from the profile) into the listing; a role
    change takes effect on the very next read (privacy is applied per request)."""
    from tests.factories import UserFactory

    PersonFactory(workspace=workspace, name="Hidden", birth_month=6, birth_day=25, birth_year=1990)
    invitee = UserFactory(first_name="Ines", last_name="Vite", date_of_birth=date(1995, 6, 18))
    assert read_names(owner_client, workspace) == {"Hidden"}

    with django_capture_on_commit_callbacks(execute=True):
        invite = owner_client.post(
            reverse("workspace-invitation-list", kwargs={"workspace_id": workspace.id}),
            {"email": invitee.email, "role": "admin"},
            format="json",
        )
    assert invite.status_code == 201
    token = _mailed_token()
    invitee_client = client_for(invitee)
    assert invitee_client.post(reverse("invitation-accept"), {"token": token}, format="json").status_code == 200

    assert read_names(owner_client, workspace) == {"Hidden", "Ines Vite"}
    assert ages_seen(invitee_client, workspace)["Hidden"] == 36

    membership = workspace.memberships.get(user=invitee)
    member_url = reverse("workspace-member-detail", kwargs={"workspace_id": workspace.id, "pk": membership.id})
    assert owner_client.patch(member_url, {"role": "member"}, format="json").status_code == 200
    assert ages_seen(invitee_client, workspace)["Hidden"] is None


def _mailed_token() -> str:
    import re

    from django.core import mail

    match = re.search(r"token=([\w-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_workspace_timezone_change_is_seen_at_once(owner, workspace):
    """GIVEN 23:30 UTC on June 15, WHEN the workspace moves to UTC+14, THEN today is June 16."""
    PersonFactory(workspace=workspace, name="June 15", birth_month=6, birth_day=15)
    PersonFactory(workspace=workspace, name="June 16", birth_month=6, birth_day=16)
    detail = reverse("workspace-detail", kwargs={"workspace_id": workspace.id})

    with time_machine.travel(datetime(2026, 6, 15, 23, 30, tzinfo=UTC), tick=False):
        owner_client = client_for(owner)
        assert read_names(owner_client, workspace) == {"June 15", "June 16"}
        assert listed(owner_client.get(birthdays_url(workspace, days=1))) == [("June 15", "birthday", "2026-06-15")]
        response = owner_client.patch(detail, {"timezone": "Pacific/Kiritimati"}, format="json")
        assert response.status_code == 200
        assert listed(owner_client.get(birthdays_url(workspace, days=1))) == [("June 16", "birthday", "2026-06-16")]


def test_leap_day_policy_change_is_seen_at_once(owner, workspace):
    PersonFactory(workspace=workspace, name="Leap", birth_month=2, birth_day=29)
    detail = reverse("workspace-detail", kwargs={"workspace_id": workspace.id})

    with time_machine.travel(datetime(2027, 2, 10, 12, tzinfo=UTC), tick=False):
        owner_client = client_for(owner)
        assert listed(owner_client.get(birthdays_url(workspace))) == [("Leap", "birthday", "2027-02-28")]
        assert owner_client.patch(detail, {"leap_day_policy": "mar1"}, format="json").status_code == 200
        assert listed(owner_client.get(birthdays_url(workspace))) == [("Leap", "birthday", "2027-03-01")]


def test_profile_change_is_seen_at_once(june_15, member_client, workspace, member):
    PersonFactory(workspace=workspace, user=member, name="Old Name", email=member.email, birth_month=1, birth_day=1)
    assert read_names(member_client, workspace) == set()

    response = member_client.patch(
        reverse("users-me"),
        {"first_name": "Mia", "last_name": "Member", "date_of_birth": "1991-06-19"},
        format="json",
    )
    assert response.status_code == 200, response.json()

    body = rows(member_client.get(birthdays_url(workspace)))
    assert [(row["person"]["name"], row["date"], row["age"]) for row in body] == [("Mia Member", "2026-06-19", 35)]


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda ws: PersonFactory(workspace=ws), id="person-create"),
        pytest.param(lambda ws: ws.people.first().save(), id="person-save"),
        pytest.param(lambda ws: ws.people.first().delete(), id="person-delete"),
        pytest.param(lambda ws: MembershipFactory(workspace=ws), id="membership-create"),
        pytest.param(lambda ws: ws.memberships.last().delete(), id="membership-delete"),
        pytest.param(lambda ws: ws.save(), id="workspace-save"),
        pytest.param(lambda ws: ws.memberships.first().user.save(), id="user-save"),
    ],
)
def test_every_kind_of_write_changes_the_version(workspace, member, write):
    PersonFactory(workspace=workspace)
    before = bb_cache.birthdays_version(workspace.pk)
    write(workspace)
    assert bb_cache.birthdays_version(workspace.pk) != before


def test_a_login_does_not_touch_the_version(workspace, user):
    before = bb_cache.birthdays_version(workspace.pk)
    user.save(update_fields=["last_login"])
    assert bb_cache.birthdays_version(workspace.pk) == before


def test_the_version_is_bumped_again_after_commit(workspace, django_capture_on_commit_callbacks):
    """A reader that recomputed from not yet committed data cached it under the bumped
    version; the bump on commit makes the next read recompute once more."""
    person = PersonFactory(workspace=workspace)
    with django_capture_on_commit_callbacks() as callbacks:
        person.name = "Changed"
        person.save()
    during = bb_cache.birthdays_version(workspace.pk)
    assert callbacks
    for callback in callbacks:
        callback()
    assert bb_cache.birthdays_version(workspace.pk) != during


def test_a_missing_version_key_starts_afresh(june_15, workspace, member_client):
    PersonFactory(workspace=workspace, name="Ada", birth_month=6, birth_day=20)
    assert read_names(member_client, workspace) == {"Ada"}
    from django.core.cache import cache

    cache.delete(f"birthdays:version:{workspace.pk}")
    bb_cache.birthdays_bump(workspace.pk)  # incr on a missing key: falls back to a fresh start
    assert bb_cache.birthdays_version(workspace.pk) is not None
    assert read_names(member_client, workspace) == {"Ada"}
