"""Helpers for the accounts tests: registering through the API and reading the mailbox."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from tests.factories import DEFAULT_PASSWORD

REGISTER_URL = "/api/v1/auth/register"
VERIFY_URL = "/api/v1/auth/verify"
RESEND_URL = "/api/v1/auth/verify/resend"
LOGIN_URL = "/api/v1/auth/login"
REFRESH_URL = "/api/v1/auth/refresh"
LOGOUT_URL = "/api/v1/auth/logout"
FORGOT_URL = "/api/v1/auth/password/forgot"
RESET_URL = "/api/v1/auth/password/reset"
ME_URL = "/api/v1/users/me"
EXPORT_URL = "/api/v1/users/me/export"
USERS_URL = "/api/v1/users/"

STRONG_PASSWORD = "Plum-Orbit-Ladder-42"

_CODE_RE = re.compile(r"^\s+(\d{6})\s*$", re.MULTILINE)


def code_from(message) -> str:
    """The 6-digit code in a verification email."""
    match = _CODE_RE.search(message.body)
    assert match, message.body
    return match.group(1)


def registration_payload(**overrides) -> dict:
    return {
        "email": "ada@example.com",
        "password": STRONG_PASSWORD,
        "first_name": "Ada",
        "last_name": "Lovelace",
        **overrides,
    }


@pytest.fixture
def post_committed(api_client, django_capture_on_commit_callbacks):
    """POSTs with ``api_client`` and runs the on-commit callbacks (the emails) it queued."""

    def _post(url: str, data=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(url, data, format="json", **extra)

    return _post


@pytest.fixture
def register(post_committed):
    """Registers through the API; returns the response. The code is in ``mail.outbox[-1]``."""

    def _register(**overrides):
        return post_committed(REGISTER_URL, registration_payload(**overrides))

    return _register


@pytest.fixture
def registered(db, register):
    """A freshly registered, still pending account: ``(email, code)``."""
    response = register()
    assert response.status_code == 202, response.data
    return mail.outbox[-1].to[0], code_from(mail.outbox[-1])


def login(api_client, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return api_client.post(LOGIN_URL, {"email": email, "password": password}, format="json", **extra)


def reset_throttles() -> None:
    """Forgets every throttle counter (of this test run's cache prefix only)."""
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("throttle_*")
    else:
        cache.clear()
