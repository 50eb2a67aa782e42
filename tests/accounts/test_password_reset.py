"""Forgot password → emailed link → reset, including every way a link can be bad."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.tokens import RefreshToken
from tests.accounts.conftest import FORGOT_URL, REFRESH_URL, RESET_URL, STRONG_PASSWORD, login
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Violet-Harbor-Tandem-77"


def link_params(message) -> dict[str, str]:
    """The reset link's base and its ``uid`` and ``token`` (``/account/reset/<uid>/<token>``)."""
    url = re.search(r"https?://\S+", message.body).group(0)
    parts = urlsplit(url)
    base, uid, token = parts.path.rsplit("/", 2)
    return {"base": f"{parts.scheme}://{parts.netloc}{base}", "uid": uid, "token": token}


@pytest.fixture
def reset_link(user, post_committed) -> dict[str, str]:
    response = post_committed(FORGOT_URL, {"email": user.email})
    assert response.status_code == 202
    assert len(mail.outbox) == 1
    return link_params(mail.outbox[0])


def reset(api_client, uid: str, token: str, new_password: str = NEW_PASSWORD):
    return api_client.post(RESET_URL, {"uid": uid, "token": token, "new_password": new_password}, format="json")


def test_forgot_mails_a_link_to_the_reset_page_on_the_public_base_url(user, post_committed, settings):
    settings.PUBLIC_BASE_URL = "https://app.example.test/"
    response = post_committed(FORGOT_URL, {"email": user.email.upper()})
    assert response.status_code == 202
    message = mail.outbox[0]
    assert message.to == [user.email]
    params = link_params(message)
    assert params["base"] == "https://app.example.test/account/reset"
    assert params["uid"] == urlsafe_base64_encode(str(user.pk).encode())
    assert force_str(urlsafe_base64_decode(params["uid"])) == str(user.pk)
    assert len(params["token"]) > 20


def test_forgot_for_unknown_or_inactive_address_is_202_without_mail(post_committed, db):
    inactive = UserFactory(is_active=False)
    known = post_committed(FORGOT_URL, {"email": "nobody@example.com"})
    assert known.status_code == 202
    assert post_committed(FORGOT_URL, {"email": inactive.email}).data == known.data
    assert mail.outbox == []


def test_forgot_with_bad_email_is_400(post_committed, db):
    response = post_committed(FORGOT_URL, {"email": 12})
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["email"]


def test_reset_sets_the_new_password_and_logs_out_everywhere(api_client, user, reset_link):
    # Issued without a login: a login changes last_login, which (by Django's design) voids the link.
    refresh = str(RefreshToken.for_user(user))

    response = reset(api_client, reset_link["uid"], reset_link["token"])
    assert response.status_code == 204

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert login(api_client, user.email, DEFAULT_PASSWORD).status_code == 401
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    # The refresh token issued before the reset was blacklisted.
    assert api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code == 401
    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 1


def test_reused_token_is_invalid(api_client, reset_link):
    assert reset(api_client, reset_link["uid"], reset_link["token"]).status_code == 204
    response = reset(api_client, reset_link["uid"], reset_link["token"], new_password=STRONG_PASSWORD)
    assert response.status_code == 400
    assert response.data["code"] == "invalid_token"


def test_expired_token_is_invalid(api_client, user, reset_link, settings):
    later = timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later, tick=False):
        response = reset(api_client, reset_link["uid"], reset_link["token"])
    assert response.status_code == 400
    assert response.data["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("uid", "token"),
    [
        ("not-base64!!", None),
        (urlsafe_base64_encode(b"not-a-uuid"), None),
        (urlsafe_base64_encode(b"00000000-0000-0000-0000-000000000000"), None),
        (None, "abc-123"),
        ("", None),
    ],
)
def test_bad_uid_or_token_is_invalid_token(api_client, user, reset_link, uid, token):
    response = reset(api_client, reset_link["uid"] if uid is None else uid, token or reset_link["token"])
    if uid == "":
        assert response.status_code == 400
        assert list(response.data["errors"]) == ["uid"]
    else:
        assert response.status_code == 400
        assert response.data["code"] == "invalid_token"
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_logging_in_after_asking_voids_the_link(api_client, user, reset_link):
    assert login(api_client, user.email).status_code == 200
    assert reset(api_client, reset_link["uid"], reset_link["token"]).data["code"] == "invalid_token"


def test_token_of_another_user_is_invalid(api_client, reset_link):
    other = UserFactory()
    other_uid = urlsafe_base64_encode(str(other.pk).encode())
    response = reset(api_client, other_uid, reset_link["token"])
    assert response.data["code"] == "invalid_token"


@pytest.mark.parametrize("weak", ["short", "password", "1234567890"])
def test_weak_new_password_is_400_and_keeps_the_token_usable(api_client, user, reset_link, weak):
    response = reset(api_client, reset_link["uid"], reset_link["token"], new_password=weak)
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["new_password"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert reset(api_client, reset_link["uid"], reset_link["token"]).status_code == 204


def test_reset_of_a_pending_user_keeps_them_pending(api_client, post_committed):
    pending = UserFactory(status=User.Status.PENDING)
    post_committed(FORGOT_URL, {"email": pending.email})
    params = link_params(mail.outbox[0])
    assert reset(api_client, params["uid"], params["token"]).status_code == 204
    pending.refresh_from_db()
    assert pending.status == User.Status.PENDING
    assert login(api_client, pending.email, NEW_PASSWORD).data["code"] == "email_not_verified"
