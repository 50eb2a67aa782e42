"""Refresh rotation (one winner, reuse revokes the chain) and access tokens that die at once."""

import threading

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts import services, tokens
from accounts.models import TokenFamily, User
from tests.accounts.conftest import LOGOUT_URL, ME_URL, REFRESH_URL, login
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGOUT_EVERYWHERE_URL = "/api/v1/auth/logout/everywhere"


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(client: APIClient, token: str):
    return client.post(REFRESH_URL, {"refresh": token}, format="json")


@pytest.fixture
def signed_in(api_client, user):
    response = login(api_client, user.email)
    assert response.status_code == 200, response.data
    return response.data


# --- rotation and reuse -----------------------------------------------------------------------


def test_reusing_a_rotated_refresh_token_revokes_everything_descended_from_it(api_client, signed_in):
    """
    GIVEN a sign-in whose refresh token was rotated twice
    WHEN the first (rotated) token is sent again, as a thief holding a copy would
    THEN it is refused as reused, and the newest refresh token and its access token stop working
    """
    first = signed_in["refresh"]
    second = refresh(api_client, first).data
    third = refresh(api_client, second["refresh"]).data
    assert bearer(third["access"]).get(ME_URL).status_code == 200

    response = refresh(api_client, first)
    assert response.status_code == 401
    assert response.data["code"] == "token_reused"

    response = refresh(api_client, third["refresh"])
    assert response.status_code == 401
    assert response.data["code"] == "token_revoked"
    assert bearer(third["access"]).get(ME_URL).status_code == 401
    family = TokenFamily.objects.get()
    assert family.revoked_reason == tokens.REVOKED_REUSE


def test_reuse_revokes_only_that_sign_in(api_client, user):
    phone = login(api_client, user.email).data
    laptop = login(api_client, user.email).data
    refresh(api_client, phone["refresh"])
    assert refresh(api_client, phone["refresh"]).status_code == 401  # reuse

    # The other sign-in refreshes as before (its access token was issued before the reuse and is
    # refused, like every access token of the account; a refresh gives a working one).
    response = refresh(api_client, laptop["refresh"])
    assert response.status_code == 200, response.data
    assert bearer(response.data["access"]).get(ME_URL).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_have_one_winner():
    """
    GIVEN one refresh token
    WHEN four requests refresh it at the same moment (each on its own database connection)
    THEN exactly one gets a new pair; the others are refused (the first of them as a reuse,
    which revokes the chain)
    """
    user = UserFactory()
    raw = tokens.token_pair_issue(user=user).refresh
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait()
            try:
                tokens.token_refresh(raw=raw)
                outcome = "ok"
            except tokens.TokenRejected as exc:
                outcome = exc.code
            with lock:
                outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 4
    assert outcomes.count("ok") == 1
    assert "token_reused" in outcomes
    assert set(outcomes) <= {"ok", "token_reused", "token_revoked"}


def test_a_token_from_before_families_is_used_once(api_client, user):
    legacy = tokens.RefreshToken.for_user(user)  # no family claim, as issued before
    assert refresh(api_client, str(legacy)).status_code == 200
    response = refresh(api_client, str(legacy))
    assert response.status_code == 401


def test_logout_ends_the_sign_in_and_its_rotations(api_client, signed_in):
    rotated = refresh(api_client, signed_in["refresh"]).data
    response = bearer(rotated["access"]).post(LOGOUT_URL, {"refresh": rotated["refresh"]}, format="json")
    assert response.status_code == 204
    assert refresh(api_client, rotated["refresh"]).data["code"] == "token_revoked"
    assert refresh(api_client, signed_in["refresh"]).status_code == 401


# --- access tokens end at once ----------------------------------------------------------------


def test_logout_everywhere_ends_every_access_and_refresh_token(api_client, user):
    one = login(api_client, user.email).data
    two = login(api_client, user.email).data
    response = bearer(one["access"]).post(LOGOUT_EVERYWHERE_URL)
    assert response.status_code == 204
    for pair in (one, two):
        response = bearer(pair["access"]).get(ME_URL)
        assert response.status_code == 401
        assert response.data["code"] == "token_revoked"
        assert refresh(api_client, pair["refresh"]).status_code == 401
    assert login(api_client, user.email).status_code == 200  # signing in again works


def test_password_reset_ends_access_tokens_at_once(api_client, user):
    pair = login(api_client, user.email).data
    link = services.password_reset_link(user=User.objects.get(pk=user.pk))
    uid, token = link.rstrip("/").split("/")[-2:]  # …/account/reset/<uid>/<token>
    services.password_reset_confirm(uid=uid, token=token, new_password="Another-Long-Phrase-77")
    assert bearer(pair["access"]).get(ME_URL).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_a_password_set_in_the_admin_ends_access_tokens_at_once(api_client, user):
    pair = login(api_client, user.email).data
    form = AdminPasswordChangeForm(user, {"password1": "Another-Long-Phrase-77", "password2": "Another-Long-Phrase-77"})
    assert form.is_valid(), form.errors
    form.save()
    assert bearer(pair["access"]).get(ME_URL).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_deactivation_ends_access_tokens_at_once(api_client, user, staff_client):
    pair = login(api_client, user.email).data
    assert staff_client.delete(f"/api/v1/users/{user.pk}/").status_code == 204
    assert bearer(pair["access"]).get(ME_URL).status_code == 401
    # Reactivated, the old tokens stay dead.
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert bearer(pair["access"]).get(ME_URL).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_account_deletion_ends_access_tokens_at_once(api_client, user):
    pair = login(api_client, user.email).data
    response = bearer(pair["access"]).delete(ME_URL, {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 204
    assert bearer(pair["access"]).get(ME_URL).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_access_tokens_are_checked_on_workspace_routes_too(api_client, user, workspace):
    pair = login(api_client, user.email).data
    url = f"/api/v1/workspaces/{workspace.pk}/people/"
    assert bearer(pair["access"]).get(url).status_code == 200
    tokens.user_tokens_revoke(user=user)
    assert bearer(pair["access"]).get(url).status_code == 401


def test_a_stale_copy_saved_later_does_not_revive_tokens(api_client, user):
    pair = login(api_client, user.email).data
    stale = User.objects.get(pk=user.pk)
    tokens.user_tokens_revoke(user=user)
    stale.first_name = "Renamed"
    stale.save()
    assert bearer(pair["access"]).get(ME_URL).status_code == 401


def test_bootstrap_admin_with_the_same_password_keeps_the_admin_signed_in(api_client, settings):
    settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "root@example.com", "Root-Password-Long-1"
    call_command("bootstrap_admin", verbosity=0)
    pair = login(api_client, "root@example.com", "Root-Password-Long-1").data
    call_command("bootstrap_admin", verbosity=0)
    assert bearer(pair["access"]).get(ME_URL).status_code == 200


def test_logout_everywhere_answers_options_and_refuses_other_methods(auth_client):
    assert auth_client.options(LOGOUT_EVERYWHERE_URL).status_code == 200
    assert auth_client.get(LOGOUT_EVERYWHERE_URL).status_code == 405
