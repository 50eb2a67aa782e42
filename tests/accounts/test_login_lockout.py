"""Guessing passwords at the Django admin (and the API login) is stopped per account and address,
without letting a stranger lock the real user out."""

import pytest
from django.core.cache import cache
from django.test import Client

from tests.accounts.conftest import LOGIN_URL
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/?next=/admin/"
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


def admin_login(client: Client, email: str, password: str):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password})


def signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_wrong_passwords_then_the_right_one_from_the_same_address_is_refused(admin_user, settings):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(attacker, admin_user.email, "wrong-guess").status_code == 200  # the form again
    assert admin_login(attacker, admin_user.email, "wrong-guess").status_code == 429
    response = admin_login(attacker, admin_user.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert response.headers.get("Content-Security-Policy")
    assert not signed_in(attacker)


def test_case_variants_count_as_one_account(admin_user, settings):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        email = admin_user.email.upper() if attempt % 2 else admin_user.email
        admin_login(attacker, email, "wrong-guess")
    assert admin_login(attacker, admin_user.email.upper(), DEFAULT_PASSWORD).status_code == 429


def test_a_stranger_cannot_lock_the_owner_out(admin_user, settings):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        admin_login(attacker, admin_user.email, "wrong-guess")
    owner = Client(REMOTE_ADDR=OWNER)
    assert admin_login(owner, admin_user.email, DEFAULT_PASSWORD).status_code == 302
    assert signed_in(owner)


def test_forged_forwarded_addresses_do_not_buy_more_guesses(admin_user, settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        forged = Client(REMOTE_ADDR=ATTACKER, headers={"X-Forwarded-For": f"10.0.0.{attempt}"})
        admin_login(forged, admin_user.email, "wrong-guess")
    forged = Client(REMOTE_ADDR=ATTACKER, headers={"X-Forwarded-For": "10.0.0.99"})
    assert admin_login(forged, admin_user.email, DEFAULT_PASSWORD).status_code == 429


def _forget_throttles():
    # The API's own per-IP/per-email throttles would answer 429 first; this is about the lock.
    cache.delete_pattern("*throttle*")


def test_the_api_login_counts_toward_the_same_lock(admin_user, settings):
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _forget_throttles()
        response = attacker.post(
            LOGIN_URL, {"email": admin_user.email, "password": "wrong-guess"}, content_type="application/json"
        )
        assert response.status_code == 401
    _forget_throttles()
    response = attacker.post(
        LOGIN_URL, {"email": admin_user.email, "password": DEFAULT_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 401
    owner = Client(REMOTE_ADDR=OWNER)
    response = owner.post(
        LOGIN_URL, {"email": admin_user.email, "password": DEFAULT_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200
