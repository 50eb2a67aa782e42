"""GET /api/v1/workspaces/{id}/birthdays/: shape, windows, parameters, privacy, caching, query counts."""

import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.workspaces.helpers import assert_error
from workspaces import cache as bb_cache
from workspaces.birthdays import birthday_list_upcoming, birthday_rows_for_viewer
from workspaces.models import Role

pytestmark = pytest.mark.django_db

ROW_KEYS = {"person", "kind", "date", "days_until", "announced_on", "private", "age", "years"}
# The caller with their membership and its workspace (one query for the JWT authentication and
# the mixin) + the people.
QUERIES_COLD = 2
QUERIES_WARM = 1


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
        "announced_on": "2026-06-16",
        "private": False,
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

    match = re.search(r"/invitations/([\w-]+)", mail.outbox[-1].body)
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


# --- the warm path: one SQL query, one cache round trip for the page ----------------------


class RedisCommands(list):
    """The commands on this test's cache keys, as the Redis server ran them (its MONITOR)."""


@contextmanager
def redis_commands():
    """Records what the real Redis server runs on this test's keys (``KEY_PREFIX``) in the block.

    MONITOR on a connection of its own, with an ECHO marker before and after the block from
    the cache's own client: everything the server ran between the two markers is in order.
    """
    from django.conf import settings
    from django.core.cache import cache

    if not settings.CACHES["default"]["BACKEND"].startswith("django_redis"):
        pytest.skip("counts Redis commands")
    import redis

    prefix = f"{settings.CACHES['default']['KEY_PREFIX']}:"
    marker = f"bb-test-marker-{uuid.uuid4().hex}"
    client = cache.client.get_client()
    monitor_connection = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"], socket_timeout=10)
    recorded = RedisCommands()
    with monitor_connection.monitor() as monitor:
        client.echo(f"{marker}-start")
        yield recorded
        client.echo(f"{marker}-end")
        started = False
        while True:
            entry = monitor.next_command()
            command = entry["command"]
            if command.startswith("ECHO") and marker in command:
                if command.endswith("-end"):
                    break
                started = True
            elif started and entry["client_type"] != "lua":  # what a script runs is part of its call
                name, *args = command.split(" ")
                # The first argument is a key of this test's cache (a script call's: after its sha).
                key = args[2] if name.upper() in {"EVALSHA", "EVAL"} and len(args) > 2 else (args or [""])[0]
                if key.startswith(prefix):
                    recorded.append(name.upper())
    monitor_connection.close()


def test_a_warm_read_is_one_query_and_one_cache_round_trip(
    june_15, member_client, workspace, django_assert_num_queries
):
    """GIVEN a page already served, THEN the next read of it is the caller's membership (one SQL
    query, with the user and the workspace), the throttle's token bucket (one script call) and
    one MGET."""
    PersonFactory.create_batch(3, workspace=workspace, birth_month=6, birth_day=20)
    first = member_client.get(birthdays_url(workspace))

    with django_assert_num_queries(1), redis_commands() as commands:
        second = member_client.get(birthdays_url(workspace))

    assert commands == ["EVALSHA", "MGET"]
    assert second.content == first.content


def test_a_cold_read_recomputes_and_stores(june_15, member_client, workspace, django_assert_num_queries):
    PersonFactory.create_batch(3, workspace=workspace, birth_month=6, birth_day=20)
    member_client.get(birthdays_url(workspace))
    PersonFactory(workspace=workspace, name="Late", birth_month=6, birth_day=21)  # bumps the version

    with django_assert_num_queries(QUERIES_COLD), redis_commands() as commands:
        response = member_client.get(birthdays_url(workspace))

    # throttle; version + page; rows (at the same version); stores the rows, then the page
    assert commands == ["EVALSHA", "MGET", "GET", "SET", "SET"]
    assert "Late" in {row["person"]["name"] for row in rows(response)}


# --- the cached page is what DRF would render, for every caller ---------------------------


def drf_rendering(response, *, workspace, viewer, role, **params) -> bytes:
    """The body DRF's paginator and JSON renderer make of ``birthday_rows_for_viewer``."""
    from rest_framework.renderers import JSONRenderer

    body = response.json()
    all_rows = birthday_list_upcoming(workspace=workspace, **params)
    page, size = body["_page"], body["_size"]
    del body["_page"], body["_size"]
    return JSONRenderer().render(
        {
            "count": len(all_rows),
            "next": body["next"],
            "previous": body["previous"],
            "results": birthday_rows_for_viewer(
                all_rows[(page - 1) * size : page * size], viewer=viewer, viewer_role=role
            ),
        }
    )


@pytest.fixture
def crowd(workspace, member, admin):
    """30 birthdays in the next days: hidden and shown ages, no year, and the member's and the
    admin's own hidden birthdays on different pages; plus anniversaries."""
    for day in range(16, 31):
        PersonFactory(workspace=workspace, name=f"Hidden {day}", birth_month=6, birth_day=day, birth_year=1990)
        PersonFactory(
            workspace=workspace, name=f"Shown {day}", birth_month=6, birth_day=day, birth_year=1980, show_age=True
        )
    PersonFactory(workspace=workspace, name="No Year", birth_month=6, birth_day=17)
    PersonFactory(workspace=workspace, name="Joined", birth_month=None, birth_day=None, joined_on=date(2020, 6, 18))
    PersonFactory(workspace=workspace, name="Member Self", user=member, birth_month=6, birth_day=17, birth_year=2001)
    PersonFactory(workspace=workspace, name="Admin Self", user=admin, birth_month=6, birth_day=29, birth_year=1970)
    return workspace


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"page_size": 7},
        {"page_size": 7, "page": 2},
        {"page_size": 7, "page": 5},
        {"page_size": 7, "page": "last"},
        {"days": 10, "page_size": 5, "page": 2},
        {"month": 6, "kind": "birthday", "page_size": 9, "page": 3},
    ],
)
def test_cached_pages_are_what_drf_renders_for_every_caller(june_15, crowd, member, admin, owner, staff_user, params):
    """Each caller reads every page twice (cold, then from the cache): both bodies are byte for
    byte what DRF renders from ``birthday_rows_for_viewer`` for that caller."""
    other_member = MembershipFactory(workspace=crowd, role=Role.MEMBER).user
    staff_member = MembershipFactory(workspace=crowd, role=Role.MEMBER, user=UserFactory(is_staff=True)).user
    callers = [
        (member, Role.MEMBER),
        (other_member, Role.MEMBER),
        (admin, Role.ADMIN),
        (owner, Role.OWNER),
        (staff_user, Role.ADMIN),
        (staff_member, Role.ADMIN),
    ]
    window = {key: value for key, value in params.items() if key in ("days", "month", "kind")}
    seen = set()
    for caller, role in callers:
        client = client_for(caller)
        for attempt in ("cold", "warm"):
            response = client.get(birthdays_url(crowd, **params))
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == "application/json"
            body = response.json()
            size = params.get("page_size", 50)
            page = -(-body["count"] // size) if params.get("page") == "last" else int(params.get("page", 1))
            expected = drf_rendering(
                _with_page(response, page, size), workspace=crowd, viewer=caller, role=role, **window
            )
            assert response.content == expected, (caller, role, attempt)
            seen.add(response.content)
    if not window and "page" not in params:
        # other members; the member with their own age; owners, admins and staff
        assert len(seen) == 3


def _with_page(response, page, size):
    class Shaped:
        def json(self):
            return {**response.json(), "_page": page, "_size": size}

    return Shaped()


def test_the_own_age_patch_lands_on_the_right_row(june_15, crowd, member):
    body = client_for(member).get(birthdays_url(crowd, page_size=100)).json()
    own = [row for row in body["results"] if row["person"]["name"] == "Member Self"]
    assert own == [
        {
            "person": {"id": own[0]["person"]["id"], "name": "Member Self", "slack_user_id": ""},
            "kind": "birthday",
            "date": "2026-06-17",
            "days_until": 2,
            "announced_on": "2026-06-17",
            "private": False,
            "age": 25,
            "years": None,
        }
    ]
    assert {row["person"]["name"]: row["age"] for row in body["results"] if row["kind"] == "birthday"}[
        "Admin Self"
    ] is None


def test_indentation_asked_for_is_honoured(june_15, member_client, workspace):
    PersonFactory(workspace=workspace, name="Ada", birth_month=6, birth_day=20)
    member_client.get(birthdays_url(workspace))
    response = member_client.get(birthdays_url(workspace), HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200
    assert response.content.startswith(b'{\n  "count": 1,')
    assert response.json()["results"][0]["person"]["name"] == "Ada"


def test_bad_page_is_404_cached_or_not(june_15, member_client, workspace):
    PersonFactory(workspace=workspace, name="Ada", birth_month=6, birth_day=20)
    assert member_client.get(birthdays_url(workspace)).status_code == 200
    for page in ("2", "0", "x", "99999999999"):
        assert_error(member_client.get(birthdays_url(workspace, page=page)), 404)


# --- who the caller is, and may do, is read on every request ------------------------------


def test_a_removed_member_gets_404_at_once(june_15, owner_client, member, member_client, workspace):
    PersonFactory(workspace=workspace, name="Ada", birth_month=6, birth_day=20)
    assert member_client.get(birthdays_url(workspace)).status_code == 200
    membership = workspace.memberships.get(user=member)
    member_url = reverse("workspace-member-detail", kwargs={"workspace_id": workspace.id, "pk": membership.id})
    assert owner_client.delete(member_url).status_code == 204

    assert_error(member_client.get(birthdays_url(workspace)), 404)


def test_changes_no_cache_hears_of_take_effect_at_once(june_15, member, member_client, workspace):
    """Written with plain SQL (no signal, no version bump): the next request still sees them,
    because who the caller is and their role are read from the database on every request."""
    from django.db import connection

    PersonFactory(workspace=workspace, name="Hidden", birth_month=6, birth_day=20, birth_year=1990)
    assert ages_seen(member_client, workspace) == {"Hidden": None}

    member_id = type(member)._meta.pk.get_db_prep_value(member.pk, connection)

    def sql(statement: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, [member_id])

    sql("UPDATE workspaces_membership SET role = 'admin' WHERE user_id = %s")
    assert ages_seen(member_client, workspace) == {"Hidden": 36}
    sql("UPDATE workspaces_membership SET role = 'member' WHERE user_id = %s")
    sql("UPDATE accounts_user SET is_staff = true WHERE id = %s")
    assert ages_seen(member_client, workspace) == {"Hidden": 36}  # staff act as admins
    sql("UPDATE accounts_user SET is_staff = false WHERE id = %s")
    assert ages_seen(member_client, workspace) == {"Hidden": None}

    sql("UPDATE accounts_user SET is_active = false WHERE id = %s")
    assert member_client.get(birthdays_url(workspace)).json()["detail"] == "User is inactive"
    sql("UPDATE accounts_user SET is_active = true WHERE id = %s")
    sql("DELETE FROM workspaces_membership WHERE user_id = %s")
    assert_error(member_client.get(birthdays_url(workspace)), 404)


def test_a_deactivated_user_is_refused_like_everywhere(june_15, member, member_client, workspace):
    member_client.get(birthdays_url(workspace))
    member.is_active = False
    member.save()
    workspace_answer = member_client.get(birthdays_url(workspace))
    me_answer = member_client.get(reverse("users-me"))
    assert_error(workspace_answer, 401)
    assert workspace_answer.json()["detail"] == "User is inactive"
    assert workspace_answer.json() == me_answer.json()


def test_the_per_user_throttle_still_applies(june_15, member, member_client, workspace, monkeypatch):
    """GIVEN a rate of 3 a minute, THEN the fourth read in a row is refused until a slot frees."""
    from birthdaybuddy.api.throttling import UserRateThrottle

    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/min")
    assert [member_client.get(birthdays_url(workspace)).status_code for _ in range(3)] == [200] * 3
    response = member_client.get(birthdays_url(workspace))
    assert_error(response, 429, code="throttled")
    # The next slot: 20 s on the Redis token bucket, the window's end on DRF's file-cache fallback.
    assert 1 <= int(response["Retry-After"]) <= 60
