import re
from datetime import date, time

import pytest
from django.urls import reverse

from accounts.models import User
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.workspaces.helpers import assert_error, unchanged
from workspaces.models import Membership, Person, Role, Workspace

LIST = reverse("workspace-list")
WORKSPACE_KEYS = {
    "id",
    "name",
    "slug",
    "timezone",
    "notify_at",
    "leap_day_policy",
    "celebration_shift",
    "holiday_country",
    "holiday_region",
    "locale",
    "quiet_hours_start",
    "quiet_hours_end",
    "greet_in_own_zone",
    "role",
    "created_at",
}


def detail(workspace_id) -> str:
    return reverse("workspace-detail", kwargs={"workspace_id": workspace_id})


# --- create -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_makes_the_creator_owner_and_gives_them_a_person():
    """
    GIVEN a verified user with a date of birth
    WHEN they create a workspace with only a name
    THEN they own it, the slug comes from the name, defaults apply, and their Person
         is filled from the profile with the age hidden.
    """
    creator = UserFactory(first_name="Grace", last_name="Hopper", date_of_birth=date(1990, 2, 28))
    response = client_for(creator).post(LIST, {"name": "Acme Accounting"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == WORKSPACE_KEYS
    assert re.fullmatch(r"acme-accounting-[0-9a-f]{6}", body["slug"]), body["slug"]
    assert body["role"] == "owner"
    assert body["timezone"] == "UTC"
    assert body["notify_at"] == "09:00"
    assert body["leap_day_policy"] == "feb28"
    assert body["locale"] == "en"
    workspace = Workspace.objects.get(pk=body["id"])
    assert workspace.created_by == creator
    assert Membership.objects.get(workspace=workspace).role == Role.OWNER
    person = Person.objects.get(workspace=workspace)
    assert person.user == creator
    assert person.name == "Grace Hopper"
    assert person.email == creator.email
    assert (person.birth_month, person.birth_day, person.birth_year) == (2, 28, 1990)
    assert person.show_age is False


@pytest.mark.django_db
def test_create_with_every_setting(auth_client):
    payload = {
        "name": "Team",
        "timezone": "Europe/Berlin",
        "notify_at": "07:30",
        "leap_day_policy": "mar1",
        "locale": "de-AT",
    }
    response = auth_client.post(LIST, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in payload} == payload
    workspace = Workspace.objects.get(pk=body["id"])
    assert workspace.notify_at == time(7, 30)


@pytest.mark.django_db
def test_slugs_are_derived_unique(auth_client):
    first = auth_client.post(LIST, {"name": "Same Name"}, format="json").json()
    second = auth_client.post(LIST, {"name": "Same Name"}, format="json").json()
    unsluggable = auth_client.post(LIST, {"name": "!!!"}, format="json").json()

    assert re.fullmatch(r"same-name-[0-9a-f]{6}", first["slug"])
    assert re.fullmatch(r"same-name-[0-9a-f]{6}", second["slug"])
    assert first["slug"] != second["slug"]
    assert re.fullmatch(r"workspace-[0-9a-f]{6}", unsluggable["slug"])


@pytest.mark.django_db
def test_creating_a_workspace_is_no_oracle_for_other_tenants_slugs(auth_client):
    """
    GIVEN another tenant's workspace "acme" (slug "acme")
    WHEN a user creates a workspace named or slugged like it, and one named like nothing
    THEN both answers have the same shape: a 201 with a fresh random-suffixed slug
    """
    WorkspaceFactory(name="Acme", slug="acme")
    taken = auth_client.post(LIST, {"name": "Acme", "slug": "acme"}, format="json")
    free = auth_client.post(LIST, {"name": "Zyxw", "slug": "zyxw"}, format="json")
    assert taken.status_code == free.status_code == 201
    assert re.fullmatch(r"acme-[0-9a-f]{6}", taken.json()["slug"])
    assert re.fullmatch(r"zyxw-[0-9a-f]{6}", free.json()["slug"])


@pytest.mark.django_db
def test_unverified_user_cannot_create(db):
    pending = UserFactory(status=User.Status.PENDING)
    with unchanged():
        response = client_for(pending).post(LIST, {"name": "Nope"}, format="json")
    assert_error(response, 403, "email_not_verified")


@pytest.mark.django_db
def test_anonymous_cannot_create(api_client):
    with unchanged():
        response = api_client.post(LIST, {"name": "Nope"}, format="json")
    assert_error(response, 401)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 123}, "name"),
        ({"name": ["a"]}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Ok", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "Ok", "timezone": 5}, "timezone"),
        ({"name": "Ok", "notify_at": "9am"}, "notify_at"),
        ({"name": "Ok", "notify_at": "25:00"}, "notify_at"),
        ({"name": "Ok", "notify_at": "09:00:00"}, "notify_at"),
        ({"name": "Ok", "notify_at": 900}, "notify_at"),
        ({"name": "Ok", "leap_day_policy": "feb29"}, "leap_day_policy"),
        ({"name": "Ok", "locale": "not a locale"}, "locale"),
    ],
)
def test_create_rejects_bad_input(auth_client, payload, field):
    with unchanged():
        response = auth_client.post(LIST, payload, format="json")
    assert_error(response, 400, field=field)


@pytest.mark.django_db
def test_unknown_timezone_names_the_problem(auth_client):
    response = auth_client.post(LIST, {"name": "Ok", "timezone": "Europe/Atlantis"}, format="json")
    body = assert_error(response, 400, "invalid_timezone", field="timezone")
    assert "Europe/Atlantis" in body["errors"]["timezone"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [b"{", b'{"name": "x",}', b"not json", b"\xff\xfe"])
def test_malformed_json_is_400(auth_client, raw):
    with unchanged():
        response = auth_client.post(LIST, raw, content_type="application/json")
    assert_error(response, 400, "parse_error")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [[], ["name"], "name", 5, None])
def test_json_that_is_not_an_object_is_400(auth_client, body):
    with unchanged():
        response = auth_client.post(LIST, body, format="json")
    assert_error(response, 400)


@pytest.mark.django_db
def test_form_encoded_body_is_415(auth_client):
    with unchanged():
        response = auth_client.post(LIST, {"name": "x"}, format="multipart")
    assert_error(response, 415)


# --- list / retrieve ----------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_only_my_workspaces_with_my_role(member_client, workspace):
    WorkspaceFactory(name="Not mine")
    response = member_client.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [(w["id"], w["role"]) for w in body["results"]] == [(str(workspace.id), "member")]


@pytest.mark.django_db
def test_staff_list_every_workspace(staff_client, staff_user, workspace):
    other = WorkspaceFactory(name="Zeta")
    MembershipFactory(workspace=other, user=staff_user, role=Role.ADMIN)

    body = staff_client.get(LIST).json()

    roles = {w["id"]: w["role"] for w in body["results"]}
    assert roles == {str(workspace.id): None, str(other.id): "admin"}


@pytest.mark.django_db
def test_list_search_and_ordering(auth_client, user):
    for name in ("Beta", "Alpha", "Gamma"):
        MembershipFactory(workspace=WorkspaceFactory(name=name), user=user)

    names = [w["name"] for w in auth_client.get(LIST, {"ordering": "-name"}).json()["results"]]
    found = auth_client.get(LIST, {"search": "alp"}).json()["results"]

    assert names == ["Gamma", "Beta", "Alpha"]
    assert [w["name"] for w in found] == ["Alpha"]


@pytest.mark.django_db
def test_retrieve_as_member(member_client, workspace):
    response = member_client.get(detail(workspace.id))
    assert response.status_code == 200
    assert response.json()["role"] == "member"
    assert set(response.json()) == WORKSPACE_KEYS


@pytest.mark.django_db
def test_non_member_gets_404(outsider_client, workspace):
    assert_error(outsider_client.get(detail(workspace.id)), 404, "not_found")


@pytest.mark.django_db
def test_staff_non_member_sees_role_null(staff_client, workspace):
    response = staff_client.get(detail(workspace.id))
    assert response.status_code == 200
    assert response.json()["role"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
def test_non_uuid_id_is_404_not_500(auth_client, bad_id):
    response = auth_client.get(f"{LIST}{bad_id}/")
    assert_error(response, 404)


@pytest.mark.django_db
def test_unknown_id_is_404(auth_client):
    assert_error(auth_client.get(detail("3f2c1f0e-7b1a-4a51-9a3e-1b0f6ad2b5a1")), 404, "not_found")


# --- update / delete ----------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_updates_settings(admin_client, workspace):
    response = admin_client.patch(
        detail(workspace.id), {"timezone": "America/New_York", "notify_at": "08:15"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["role"] == "admin"
    workspace.refresh_from_db()
    assert (workspace.timezone, workspace.notify_at) == ("America/New_York", time(8, 15))


@pytest.mark.django_db
def test_member_cannot_update(member_client, workspace):
    with unchanged():
        response = member_client.patch(detail(workspace.id), {"name": "Mine now"}, format="json")
    assert_error(response, 403, "role_required")


@pytest.mark.django_db
def test_put_is_not_offered(auth_client, workspace):
    with unchanged():
        response = auth_client.put(detail(workspace.id), {"name": "x"}, format="json")
    assert_error(response, 405)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"timezone": "Nowhere/Land"}, "timezone"),
        ({"name": ""}, "name"),
        ({"notify_at": None}, "notify_at"),
        ({"leap_day_policy": None}, "leap_day_policy"),
        ({"celebration_shift": "on_friday"}, "celebration_shift"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_country": "Germany"}, "holiday_country"),
        ({"holiday_country": "DE", "holiday_region": "ZZ"}, "holiday_region"),
        ({"holiday_region": "BY"}, "holiday_region"),
        ({"greet_in_own_zone": "yes"}, "greet_in_own_zone"),
        ({"greet_in_own_zone": None}, "greet_in_own_zone"),
    ],
)
def test_update_rejects_bad_input(auth_client, workspace, payload, field):
    with unchanged():
        response = auth_client.patch(detail(workspace.id), payload, format="json")
    assert_error(response, 400, field=field)


@pytest.mark.django_db
def test_the_slug_cannot_be_changed_to_probe_for_others(auth_client, workspace):
    taken = WorkspaceFactory()
    response = auth_client.patch(detail(workspace.id), {"slug": taken.slug}, format="json")
    assert response.status_code == 200
    assert response.json()["slug"] == workspace.slug


@pytest.mark.django_db
def test_owner_deletes_workspace_and_everything_in_it(auth_client, workspace, member):
    PersonFactory(workspace=workspace)

    response = auth_client.delete(detail(workspace.id))

    assert response.status_code == 204
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert not Membership.objects.filter(workspace_id=workspace.pk).exists()
    assert not Person.objects.filter(workspace_id=workspace.pk).exists()
    assert User.objects.filter(pk=member.pk).exists()


@pytest.mark.django_db
def test_admin_and_staff_cannot_delete(admin_client, staff_client, workspace):
    with unchanged():
        admin_response = admin_client.delete(detail(workspace.id))
        staff_response = staff_client.delete(detail(workspace.id))
    assert_error(admin_response, 403, "role_required")
    assert_error(staff_response, 403, "role_required")


@pytest.mark.django_db
def test_quiet_hours_round_trip_and_need_both_ends(auth_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/"
    response = auth_client.patch(url, {"quiet_hours_start": "22:00", "quiet_hours_end": "07:00"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["quiet_hours_start"], response.json()["quiet_hours_end"]) == ("22:00", "07:00")

    half = auth_client.patch(url, {"quiet_hours_end": None}, format="json")
    assert half.status_code == 400
    assert list(half.json()["errors"]) == ["quiet_hours_end"]
    workspace.refresh_from_db()
    assert workspace.quiet_hours_end is not None

    assert auth_client.patch(url, {"quiet_hours_start": "7am"}, format="json").status_code == 400
    cleared = auth_client.patch(url, {"quiet_hours_start": None, "quiet_hours_end": None}, format="json")
    assert cleared.status_code == 200
    assert cleared.json()["quiet_hours_start"] is None


@pytest.mark.django_db
def test_weekend_and_holiday_settings_round_trip(auth_client, workspace):
    url = detail(workspace.id)
    payload = {"celebration_shift": "working_day_before", "holiday_country": "de", "holiday_region": "by"}
    response = auth_client.patch(url, payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["celebration_shift"], body["holiday_country"], body["holiday_region"]) == (
        "working_day_before",
        "DE",
        "BY",
    )
    workspace.refresh_from_db()
    assert (workspace.celebration_shift, workspace.holiday_country, workspace.holiday_region) == (
        "working_day_before",
        "DE",
        "BY",
    )


@pytest.mark.django_db
def test_create_refuses_an_unknown_holiday_country_naming_it(auth_client):
    with unchanged():
        response = auth_client.post(LIST, {"name": "Ok", "holiday_country": "QQ"}, format="json")
    assert_error(response, 400, "unknown_country", field="holiday_country")


@pytest.mark.django_db
def test_greeting_in_each_persons_own_zone_is_off_by_default_and_switches_the_schedule(auth_client, workspace):
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from scheduling.models import GreetingSchedule

    url = f"/api/v1/workspaces/{workspace.pk}/"
    PersonFactory(workspace=workspace, name="Lee", birth_month=6, birth_day=10, timezone="America/Los_Angeles")
    assert auth_client.get(url).json()["greet_in_own_zone"] is False
    assert not GreetingSchedule.objects.exists()

    response = auth_client.patch(url, {"greet_in_own_zone": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["greet_in_own_zone"] is True
    row = GreetingSchedule.objects.get(person__name="Lee")
    assert (row.zone, (row.local_date.month, row.local_date.day)) == ("America/Los_Angeles", (6, 10))

    assert auth_client.patch(url, {"greet_in_own_zone": False}, format="json").status_code == 200
    # rows for dates after the workspace's local today are gone (a row for today would still fire)
    today = timezone.localtime(timezone.now(), ZoneInfo(workspace.timezone)).date()
    assert not GreetingSchedule.objects.filter(local_date__gt=today).exists()
