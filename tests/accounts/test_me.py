"""The caller's own account: read, update, delete, export."""

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tokens import RefreshToken
from tests.accounts.conftest import EXPORT_URL, ME_URL, REFRESH_URL
from tests.conftest import client_for
from tests.factories import (
    DEFAULT_PASSWORD,
    InvitationFactory,
    MembershipFactory,
    PersonFactory,
    UserFactory,
    WorkspaceFactory,
)
from workspaces.models import Membership, Person, Role, Workspace

pytestmark = pytest.mark.django_db


def test_me_requires_authentication(api_client):
    for method in ("get", "patch", "delete"):
        response = getattr(api_client, method)(ME_URL, {}, format="json")
        assert response.status_code == 401
        assert response.data["code"] == "not_authenticated"
    assert api_client.get(EXPORT_URL).status_code == 401


def test_get_me(auth_client, user):
    response = auth_client.get(ME_URL)
    assert response.status_code == 200
    assert response.data["id"] == str(user.pk)
    assert response.data["email"] == user.email
    assert response.data["status"] == "verified"
    assert set(response.data) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "date_of_birth",
        "timezone",
        "phone",
        "slack_user_id",
        "status",
        "created_at",
    }


def test_patch_me_updates_profile_and_normalizes_phone(auth_client, user):
    response = auth_client.patch(
        ME_URL,
        {
            "first_name": "Grace",
            "last_name": "Hopper",
            "date_of_birth": "1906-12-09",
            "timezone": "America/New_York",
            "phone": "+1 (415) 555-0100",
            "slack_user_id": "U024BE7LH",
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    assert response.data["phone"] == "+14155550100"
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Grace", "Hopper")
    assert str(user.date_of_birth) == "1906-12-09"
    assert user.timezone == "America/New_York"
    assert user.phone == "+14155550100"
    assert user.slack_user_id == "U024BE7LH"


def test_patch_me_ignores_email_and_status(auth_client, user):
    response = auth_client.patch(ME_URL, {"email": "new@example.com", "status": "pending"}, format="json")
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email != "new@example.com"
    assert user.status == User.Status.VERIFIED


def test_patch_me_can_clear_phone_and_date_of_birth(auth_client, user):
    User.objects.filter(pk=user.pk).update(phone="+14155550100", date_of_birth="1990-01-01")
    response = auth_client.patch(ME_URL, {"phone": "", "date_of_birth": None}, format="json")
    assert response.status_code == 200
    assert response.data["phone"] == ""
    assert response.data["date_of_birth"] is None


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({"phone": "0415 555 0100"}, "phone", "invalid_phone"),
        ({"phone": "+1 555"}, "phone", "invalid_phone"),
        ({"phone": "call me"}, "phone", "invalid_phone"),
        ({"phone": 14155550100}, "phone", "not_a_string"),
        ({"timezone": "Atlantis/Capital"}, "timezone", "invalid_timezone"),
        ({"timezone": None}, "timezone", "null"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "future_date"),
        ({"date_of_birth": "yesterday"}, "date_of_birth", "invalid"),
        ({"first_name": {"x": 1}}, "first_name", "not_a_string"),
        ({"slack_user_id": "U" * 40}, "slack_user_id", "max_length"),
    ],
)
def test_patch_me_bad_input_is_400_and_changes_nothing(auth_client, user, payload, field, code):
    before = User.objects.values().get(pk=user.pk)
    response = auth_client.patch(ME_URL, {"first_name": "Changed", **payload}, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]
    assert response.data["errors"][field][0].code == code
    assert User.objects.values().get(pk=user.pk) == before


def test_patch_me_malformed_json_is_400(auth_client):
    response = auth_client.patch(ME_URL, data="{first_name: x}", content_type="application/json")
    assert response.status_code == 400
    assert response.data["code"] == "parse_error"


# --- Delete -------------------------------------------------------------------------------


def test_delete_me_with_password_deletes_account_and_memberships(auth_client, user, api_client):
    shared = WorkspaceFactory(name="Shared")
    MembershipFactory(workspace=shared, role=Role.OWNER)
    MembershipFactory(workspace=shared, user=user, role=Role.MEMBER)
    person = PersonFactory(workspace=shared, user=user)
    refresh = str(RefreshToken.for_user(user))

    response = auth_client.delete(ME_URL, {"password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Membership.objects.filter(workspace=shared, user_id=user.pk).exists()
    assert Membership.objects.filter(workspace=shared).count() == 1
    person.refresh_from_db()
    assert person.user is None  # the workspace keeps its record, unlinked
    assert api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code == 401
    assert auth_client.get(ME_URL).status_code == 401


def test_delete_me_with_wrong_password_is_403(auth_client, user):
    response = auth_client.delete(ME_URL, {"password": "not-it"}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "invalid_password"
    assert User.objects.filter(pk=user.pk).exists()


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": 123}, None])
def test_delete_me_without_password_is_400(auth_client, user, body):
    response = auth_client.delete(ME_URL, body, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["password"]
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_me_as_last_owner_is_409_naming_the_workspaces(auth_client, user):
    solo = WorkspaceFactory(name="Solo shop")
    MembershipFactory(workspace=solo, user=user, role=Role.OWNER)
    team = WorkspaceFactory(name="Acme team")
    MembershipFactory(workspace=team, user=user, role=Role.OWNER)
    MembershipFactory(workspace=team, role=Role.ADMIN)
    co_owned = WorkspaceFactory(name="Co-owned")
    MembershipFactory(workspace=co_owned, user=user, role=Role.OWNER)
    MembershipFactory(workspace=co_owned, role=Role.OWNER)

    response = auth_client.delete(ME_URL, {"password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 409
    assert response.data["code"] == "last_owner"
    assert response.data["workspaces"] == [
        {"id": str(team.pk), "name": "Acme team"},
        {"id": str(solo.pk), "name": "Solo shop"},
    ]
    assert "Acme team" in response.data["detail"]
    assert User.objects.filter(pk=user.pk).exists()
    assert Membership.objects.filter(user=user).count() == 3


def test_delete_me_wrong_password_is_checked_before_ownership(auth_client, workspace):
    response = auth_client.delete(ME_URL, {"password": "nope"}, format="json")
    assert response.status_code == 403


# --- Export -------------------------------------------------------------------------------


def test_export_contains_all_personal_data(auth_client, user):
    User.objects.filter(pk=user.pk).update(phone="+14155550100", date_of_birth="1990-05-17")
    acme = WorkspaceFactory(name="Acme")
    MembershipFactory(workspace=acme, user=user, role=Role.ADMIN)
    person = PersonFactory(workspace=acme, user=user, name="Ada L.", birth_year=1990, show_age=True)
    InvitationFactory(workspace=acme, email=user.email.upper(), role=Role.ADMIN, accepted_at=timezone.now())
    stranger_ws = WorkspaceFactory(name="Elsewhere")
    PersonFactory(workspace=stranger_ws, name="Someone else")
    MembershipFactory(workspace=stranger_ws)

    response = auth_client.get(EXPORT_URL)

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"exported_at", "profile", "memberships", "people", "invitations"}
    assert data["profile"]["email"] == user.email
    assert data["profile"]["phone"] == "+14155550100"
    assert data["profile"]["date_of_birth"] == "1990-05-17"
    assert "password" not in data["profile"]
    assert data["memberships"] == [
        {
            "workspace": {"id": str(acme.pk), "name": "Acme"},
            "role": "admin",
            "joined_at": data["memberships"][0]["joined_at"],
        }
    ]
    assert len(data["people"]) == 1
    exported = data["people"][0]
    assert exported["id"] == str(person.pk)
    assert exported["workspace"] == {"id": str(acme.pk), "name": "Acme"}
    assert (exported["name"], exported["birth_month"], exported["birth_day"], exported["birth_year"]) == (
        "Ada L.",
        5,
        17,
        1990,
    )
    assert [invitation["status"] for invitation in data["invitations"]] == ["accepted"]
    assert "token_hash" not in data["invitations"][0]


def test_export_of_a_user_without_workspaces(auth_client):
    data = auth_client.get(EXPORT_URL).json()
    assert (data["memberships"], data["people"], data["invitations"]) == ([], [], [])


def test_export_query_count_does_not_grow_with_rows(auth_client, user, django_assert_max_num_queries):
    for _ in range(5):
        workspace = WorkspaceFactory()
        MembershipFactory(workspace=workspace, user=user)
        PersonFactory(workspace=workspace, user=user)
        InvitationFactory(workspace=workspace, email=user.email)
    with django_assert_max_num_queries(6):
        assert auth_client.get(EXPORT_URL).status_code == 200


def test_other_users_data_is_not_in_my_export(db):
    me, other = UserFactory(), UserFactory()
    MembershipFactory(user=other)
    PersonFactory(user=other, workspace=Workspace.objects.get())
    data = client_for(me).get(EXPORT_URL).json()
    assert data["memberships"] == []
    assert data["people"] == []
    assert Person.objects.count() == 1
