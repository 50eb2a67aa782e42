"""End-to-end sign-up and token flows through the HTTP API."""

from datetime import timedelta

import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from tests.accounts.conftest import (
    LOGIN_URL,
    LOGOUT_URL,
    ME_URL,
    REFRESH_URL,
    STRONG_PASSWORD,
    VERIFY_URL,
    code_from,
    login,
)
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_register_verify_login_refresh_logout(api_client, register):
    """
    GIVEN a new visitor
    WHEN they sign up, verify with the mailed code, log in, refresh and log out
    THEN each step succeeds and every spent refresh token is refused afterwards
    """
    response = register(email="Ada@Example.com", date_of_birth="1990-12-10", timezone="Europe/London")
    assert response.status_code == 202, response.data
    pending = User.objects.get(email="ada@example.com")
    assert pending.status == User.Status.PENDING
    assert pending.timezone == "Europe/London"
    assert str(pending.date_of_birth) == "1990-12-10"
    assert set(response.data) == {"detail"}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    code = code_from(message)
    assert code in message.subject

    # Not verified yet: the right password gets a 403 with a clear code.
    response = login(api_client, "ada@example.com", STRONG_PASSWORD)
    assert response.status_code == 403
    assert response.data["code"] == "email_not_verified"

    response = api_client.post(VERIFY_URL, {"email": "ADA@example.com", "code": code}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "verified"
    assert User.objects.get(email="ada@example.com").status == User.Status.VERIFIED

    response = login(api_client, "ada@example.com", STRONG_PASSWORD)
    assert response.status_code == 200, response.data
    assert set(response.data) == {"access", "refresh"}
    first_refresh = response.data["refresh"]
    me = bearer(response.data["access"]).get(ME_URL)
    assert me.status_code == 200
    assert me.data["email"] == "ada@example.com"
    assert User.objects.get(email="ada@example.com").last_login is not None

    response = api_client.post(REFRESH_URL, {"refresh": first_refresh}, format="json")
    assert response.status_code == 200, response.data
    assert set(response.data) == {"access", "refresh"}
    second_refresh = response.data["refresh"]
    assert second_refresh != first_refresh
    access = response.data["access"]

    client = bearer(access)
    response = client.post(LOGOUT_URL, {"refresh": second_refresh}, format="json")
    assert response.status_code == 204
    assert BlacklistedToken.objects.filter(token__token=second_refresh).exists()

    response = client.post(LOGOUT_URL, {"refresh": second_refresh}, format="json")
    assert response.status_code == 401
    response = api_client.post(REFRESH_URL, {"refresh": second_refresh}, format="json")
    assert response.status_code == 401
    assert response.data["code"] == "token_revoked"
    # The rotated first token is no way back in either.
    response = api_client.post(REFRESH_URL, {"refresh": first_refresh}, format="json")
    assert response.status_code == 401


def test_login_with_wrong_password_is_401(api_client, user):
    response = login(api_client, user.email, "not-the-password")
    assert response.status_code == 401
    assert response.data == {"detail": "Email or password is incorrect.", "code": "invalid_credentials"}


def test_login_with_unknown_email_is_401(api_client):
    response = login(api_client, "nobody@example.com")
    assert response.status_code == 401
    assert response.data["code"] == "invalid_credentials"


def test_login_email_is_case_insensitive(api_client, user):
    response = login(api_client, user.email.upper())
    assert response.status_code == 200


def test_unverified_user_with_wrong_password_gets_401_not_403(api_client):
    pending = UserFactory(status=User.Status.PENDING)
    assert login(api_client, pending.email, "wrong-password").status_code == 401
    response = login(api_client, pending.email)
    assert response.status_code == 403
    assert response.data["code"] == "email_not_verified"


def test_inactive_user_cannot_log_in(api_client):
    inactive = UserFactory(is_active=False)
    assert login(api_client, inactive.email).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": "x"}, "email"),
        ({"email": "user@example.com"}, "password"),
        ({"email": "not-an-email", "password": "x"}, "email"),
        ({"email": ["a@example.com"], "password": "x"}, "email"),
        ({"email": "a@example.com", "password": 12345678}, "password"),
    ],
)
def test_login_bad_input_is_400(api_client, payload, field):
    response = api_client.post(LOGIN_URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]


def test_refresh_with_garbage_is_401(api_client):
    response = api_client.post(REFRESH_URL, {"refresh": "not.a.token"}, format="json")
    assert response.status_code == 401
    assert response.data["code"] == "token_not_valid"


def test_refresh_with_an_access_token_is_401(api_client, user):
    access = login(api_client, user.email).data["access"]
    response = api_client.post(REFRESH_URL, {"refresh": access}, format="json")
    assert response.status_code == 401


def test_refresh_after_the_account_is_deleted_is_401(api_client, user):
    refresh = login(api_client, user.email).data["refresh"]
    User.objects.filter(pk=user.pk).delete()
    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")
    assert response.status_code == 401


def test_refresh_of_a_deactivated_account_is_401(api_client, user):
    refresh = login(api_client, user.email).data["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")
    assert response.status_code == 401


def test_logout_needs_authentication(api_client, user):
    refresh = login(api_client, user.email).data["refresh"]
    response = api_client.post(LOGOUT_URL, {"refresh": refresh}, format="json")
    assert response.status_code == 401
    assert not BlacklistedToken.objects.exists()


def test_logout_refuses_someone_elses_token(api_client, user):
    other = UserFactory()
    others_refresh = login(api_client, other.email).data["refresh"]
    response = client_for(user).post(LOGOUT_URL, {"refresh": others_refresh}, format="json")
    assert response.status_code == 403
    assert response.data["code"] == "token_not_yours"
    assert not BlacklistedToken.objects.exists()
    assert api_client.post(REFRESH_URL, {"refresh": others_refresh}, format="json").status_code == 200


def test_logout_without_refresh_is_400(user):
    response = client_for(user).post(LOGOUT_URL, {}, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["refresh"]


def test_an_expired_access_token_is_401_saying_it_expired(api_client, user, settings):
    """A genuine token past its lifetime says so; a forged one keeps the generic answer."""
    import time_machine
    from django.utils import timezone
    from rest_framework_simplejwt.settings import api_settings

    access = login(api_client, user.email).data["access"]
    assert bearer(access).get(ME_URL).status_code == 200

    later = timezone.now() + api_settings.ACCESS_TOKEN_LIFETIME + timedelta(seconds=api_settings.LEEWAY + 5)
    with time_machine.travel(later, tick=False):
        expired = bearer(access).get(ME_URL)
        forged = bearer(access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")).get(ME_URL)

    assert expired.status_code == 401
    assert expired.data["code"] == "token_expired"
    assert "expired" in expired.data["detail"]
    assert forged.status_code == 401
    assert forged.data["code"] == "token_not_valid"
