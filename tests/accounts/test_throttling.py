"""Credential endpoints: 5 requests a minute per client IP and per submitted email, then 429."""

import pytest

from tests.accounts.conftest import FORGOT_URL, LOGIN_URL, REGISTER_URL, login, registration_payload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def assert_throttled(response) -> None:
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    assert response.data["code"] == "throttled"
    assert response.data["retry_after"] == retry_after


def test_sixth_login_for_the_same_email_from_different_ips_is_429(api_client, user):
    statuses = [login(api_client, user.email, "wrong", REMOTE_ADDR=f"10.0.0.{n}").status_code for n in range(5)]
    assert statuses == [401] * 5
    assert_throttled(login(api_client, user.email, REMOTE_ADDR="10.0.0.99"))
    # The count is per address, compared case-insensitively.
    assert_throttled(login(api_client, user.email.upper(), REMOTE_ADDR="10.0.0.98"))
    # Another address from another IP is not affected.
    other = UserFactory()
    assert login(api_client, other.email, REMOTE_ADDR="10.0.1.1").status_code == 200


def test_sixth_login_from_the_same_ip_is_429(api_client, db):
    users = UserFactory.create_batch(6)
    statuses = [login(api_client, u.email, REMOTE_ADDR="192.0.2.7").status_code for u in users[:5]]
    assert statuses == [200] * 5
    assert_throttled(login(api_client, users[5].email, REMOTE_ADDR="192.0.2.7"))
    assert login(api_client, users[5].email, REMOTE_ADDR="192.0.2.8").status_code == 200


def test_malformed_bodies_count_against_the_ip(api_client, db):
    for _ in range(5):
        response = api_client.post(LOGIN_URL, data="{", content_type="application/json")
        assert response.status_code == 400
        assert response.data["code"] == "parse_error"
    assert_throttled(api_client.post(LOGIN_URL, data="{", content_type="application/json"))


def test_each_endpoint_has_its_own_allowance(api_client, user):
    for _ in range(5):
        api_client.post(FORGOT_URL, {"email": user.email}, format="json")
    assert_throttled(api_client.post(FORGOT_URL, {"email": user.email}, format="json"))
    assert login(api_client, user.email).status_code == 200


def test_register_is_throttled_per_ip(api_client, db):
    for n in range(5):
        response = api_client.post(REGISTER_URL, registration_payload(email=f"new{n}@example.com"), format="json")
        assert response.status_code == 202
    response = api_client.post(REGISTER_URL, registration_payload(email="new6@example.com"), format="json")
    assert_throttled(response)


def test_forwarded_for_is_ignored_without_trusted_proxies(api_client, user):
    """With NUM_PROXIES=0 a client cannot dodge the IP limit by inventing X-Forwarded-For."""
    for n in range(5):
        login(api_client, f"x{n}@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert_throttled(login(api_client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.200"))
