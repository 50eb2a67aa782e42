"""Staff-only user administration at /api/v1/users/."""

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from accounts.tokens import RefreshToken
from tests.accounts.conftest import ME_URL, REFRESH_URL, USERS_URL, login
from tests.conftest import client_for
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def detail_url(user) -> str:
    return f"{USERS_URL}{user.pk}/"


@pytest.fixture
def plain_staff(db):
    """Staff without superuser rights."""
    return UserFactory(is_staff=True, is_superuser=False)


def test_anonymous_gets_401(api_client, user):
    assert api_client.get(USERS_URL).status_code == 401
    assert api_client.get(detail_url(user)).status_code == 401


def test_non_staff_gets_403_everywhere(auth_client, user):
    other = UserFactory()
    requests = [
        auth_client.get(USERS_URL),
        auth_client.get(detail_url(other)),
        auth_client.patch(detail_url(other), {"first_name": "X"}, format="json"),
        auth_client.delete(detail_url(other)),
    ]
    assert [response.status_code for response in requests] == [403] * 4
    other.refresh_from_db()
    assert other.first_name != "X"
    assert other.is_active


def test_list_is_paginated_and_ordered_by_email(staff_client, staff_user):
    UserFactory(email="zed@example.com")
    UserFactory(email="amy@example.com")
    response = staff_client.get(USERS_URL)
    assert response.status_code == 200
    assert response.data["count"] == 3
    emails = [row["email"] for row in response.data["results"]]
    assert emails == sorted(emails)
    assert emails[0] == "amy@example.com"
    assert "password" not in response.data["results"][0]


def test_list_filters(staff_client, staff_user):
    pending = UserFactory(status=User.Status.PENDING)
    inactive = UserFactory(is_active=False)

    def emails(query: str) -> set[str]:
        response = staff_client.get(f"{USERS_URL}?{query}")
        assert response.status_code == 200, response.data
        return {row["email"] for row in response.data["results"]}

    assert emails("status=pending") == {pending.email}
    assert emails("is_active=false") == {inactive.email}
    assert emails("is_staff=true") == {staff_user.email}
    assert staff_user.email not in emails("is_staff=false")


def test_list_search_matches_email_and_names(staff_client):
    grace = UserFactory(email="grace@navy.example", first_name="Grace", last_name="Hopper")
    UserFactory(email="alan@example.com", first_name="Alan", last_name="Turing")

    def emails(search: str) -> list[str]:
        return [row["email"] for row in staff_client.get(USERS_URL, {"search": search}).data["results"]]

    assert emails("hopper") == [grace.email]
    assert emails("navy") == [grace.email]
    assert emails("GRACE hop") == [grace.email]
    assert emails("nobody") == []


def test_list_ordering(staff_client):
    UserFactory(email="b@example.com", first_name="Zoe")
    UserFactory(email="c@example.com", first_name="Abe")
    rows = staff_client.get(USERS_URL, {"ordering": "-first_name", "is_staff": "false"}).data["results"]
    assert [row["first_name"] for row in rows] == ["Zoe", "Abe"]


def test_list_bad_filter_is_400(staff_client):
    response = staff_client.get(USERS_URL, {"status": "sleeping"})
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["status"]


def test_list_search_with_nul_byte_is_400_not_500(staff_client):
    response = staff_client.get(USERS_URL, {"search": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["code"] == "null_characters_not_allowed"


def test_retrieve(staff_client):
    target = UserFactory(first_name="Ada")
    response = staff_client.get(detail_url(target))
    assert response.status_code == 200
    assert response.data["id"] == str(target.pk)
    assert response.data["first_name"] == "Ada"
    assert response.data["is_active"] is True


def test_unknown_or_malformed_id_is_404(staff_client):
    assert staff_client.get(f"{USERS_URL}{uuid.uuid4()}/").status_code == 404
    response = staff_client.get(f"{USERS_URL}not-a-uuid/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_patch_names_and_status(staff_client):
    target = UserFactory(status=User.Status.PENDING)
    response = staff_client.patch(
        detail_url(target), {"first_name": "New", "last_name": "Name", "status": "verified"}, format="json"
    )
    assert response.status_code == 200, response.data
    assert response.data["status"] == "verified"
    target.refresh_from_db()
    assert (target.first_name, target.last_name, target.status) == ("New", "Name", User.Status.VERIFIED)


def test_patch_ignores_fields_staff_may_not_change(staff_client):
    target = UserFactory()
    response = staff_client.patch(detail_url(target), {"email": "x@example.com", "is_superuser": True}, format="json")
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.email != "x@example.com"
    assert not target.is_superuser


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"status": "sleeping"}, "status"), ({"is_active": "perhaps"}, "is_active"), ({"first_name": 3}, "first_name")],
)
def test_patch_bad_input_is_400(staff_client, payload, field):
    target = UserFactory()
    response = staff_client.patch(detail_url(target), payload, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]


def test_superuser_can_grant_staff(staff_client):
    target = UserFactory()
    response = staff_client.patch(detail_url(target), {"is_staff": True}, format="json")
    assert response.status_code == 200
    target.refresh_from_db()
    assert target.is_staff


def test_plain_staff_cannot_grant_staff(plain_staff):
    target = UserFactory()
    response = client_for(plain_staff).patch(detail_url(target), {"is_staff": True}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "superuser_required"
    target.refresh_from_db()
    assert not target.is_staff


def test_plain_staff_can_edit_other_fields(plain_staff):
    target = UserFactory()
    response = client_for(plain_staff).patch(detail_url(target), {"first_name": "Ok", "is_staff": False}, format="json")
    assert response.status_code == 200


def test_deactivate(staff_client, api_client):
    target = UserFactory()
    refresh = str(RefreshToken.for_user(target))
    target_client = client_for(target)

    response = staff_client.delete(detail_url(target))

    assert response.status_code == 204
    target.refresh_from_db()
    assert target.is_active is False
    assert User.objects.filter(pk=target.pk).exists()
    assert login(api_client, target.email).status_code == 401
    assert api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code == 401
    assert target_client.get(ME_URL).status_code == 401
    # Idempotent.
    assert staff_client.delete(detail_url(target)).status_code == 204


def test_staff_cannot_deactivate_or_demote_themselves(staff_client, staff_user):
    assert staff_client.delete(detail_url(staff_user)).data["code"] == "cannot_change_self"
    response = staff_client.patch(detail_url(staff_user), {"is_staff": False}, format="json")
    assert response.status_code == 400
    assert response.data["code"] == "cannot_change_self"
    staff_user.refresh_from_db()
    assert staff_user.is_active
    assert staff_user.is_staff


def test_put_is_not_allowed(staff_client):
    target = UserFactory()
    response = staff_client.put(detail_url(target), {"first_name": "X"}, format="json")
    assert response.status_code == 405


# --- staff cannot touch the accounts of those with rights ----------------------------------


@pytest.mark.parametrize("target_kind", ["superuser", "staff"])
@pytest.mark.parametrize(
    ("method", "payload"),
    [("delete", None), ("patch", {"is_active": False}), ("patch", {"first_name": "Mallory"})],
)
def test_plain_staff_cannot_change_or_deactivate_staff_or_superusers(plain_staff, target_kind, method, payload):
    target = UserFactory(is_staff=True, is_superuser=target_kind == "superuser")
    client = client_for(plain_staff)
    response = getattr(client, method)(detail_url(target), payload, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "superuser_required"
    target.refresh_from_db()
    assert target.is_active
    assert target.first_name != "Mallory"


def test_superuser_can_deactivate_staff(staff_client):
    target = UserFactory(is_staff=True)
    assert staff_client.delete(detail_url(target)).status_code == 204
    target.refresh_from_db()
    assert not target.is_active


def test_plain_staff_can_still_deactivate_plain_users(plain_staff):
    target = UserFactory()
    assert client_for(plain_staff).delete(detail_url(target)).status_code == 204


def _admin_client(user):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="accounts", codename__endswith="_user")
    )
    client = Client()
    client.force_login(user)
    return client


def test_admin_staff_cannot_edit_or_delete_a_superuser(plain_staff):
    root = UserFactory(is_staff=True, is_superuser=True)
    client = _admin_client(plain_staff)
    change = f"/admin/accounts/user/{root.pk}/change/"
    page = client.get(change)
    assert page.status_code == 200
    assert b'name="is_active"' not in page.content  # view only
    response = client.post(change, {"email": root.email, "is_active": "", "status": "verified", "timezone": "UTC"})
    assert response.status_code == 403
    assert client.post(f"/admin/accounts/user/{root.pk}/delete/", {"post": "yes"}).status_code == 403
    response = client.post(
        "/admin/accounts/user/", {"action": "delete_selected", "_selected_action": [str(root.pk)], "post": "yes"}
    )
    assert response.status_code in (200, 302, 403)
    password = f"/admin/accounts/user/{root.pk}/password/"
    assert client.post(password, {"password1": "Taken-Over-99x", "password2": "Taken-Over-99x"}).status_code == 403
    root.refresh_from_db()
    assert root.is_active
    assert root.check_password(DEFAULT_PASSWORD)
    assert User.objects.filter(pk=root.pk).exists()


def test_admin_staff_cannot_grant_themselves_rights(plain_staff):
    client = _admin_client(plain_staff)
    change = f"/admin/accounts/user/{plain_staff.pk}/change/"
    page = client.get(change)
    assert b'name="is_superuser"' not in page.content
    response = client.post(
        change,
        {
            "email": plain_staff.email,
            "status": "verified",
            "timezone": "UTC",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    plain_staff.refresh_from_db()
    assert not plain_staff.is_superuser


def test_admin_superuser_still_manages_staff(staff_user):
    target = UserFactory(is_staff=True)
    admin = Client()
    admin.force_login(staff_user)
    page = admin.get(f"/admin/accounts/user/{target.pk}/change/")
    assert b'name="is_superuser"' in page.content
