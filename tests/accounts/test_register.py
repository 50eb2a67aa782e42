"""Sign-up: every kind of bad input is a 400 (or 413) naming the problem, and writes nothing."""

import json
import socket

import pytest
from django.core import mail

from accounts.models import EmailVerification, User
from tests.accounts.conftest import REGISTER_URL, code_from, registration_payload
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assert_nothing_written():
    """Checks after the test that no user, code or email was created."""
    users_before = User.objects.count()
    yield
    assert User.objects.count() == users_before
    assert not EmailVerification.objects.exists()
    assert mail.outbox == []


def test_register_stores_the_code_hashed_and_expiring(register, settings):
    response = register()
    assert response.status_code == 202
    verification = EmailVerification.objects.get(user__email="ada@example.com")
    code = mail.outbox[0].body
    assert len(verification.code_hash) == 64
    assert verification.code_hash not in code
    assert verification.expires_at - verification.created_at == settings.VERIFICATION_CODE_TTL
    assert verification.attempts == 0


def test_register_defaults(register):
    response = register()
    assert response.status_code == 202
    user = User.objects.get(email="ada@example.com")
    assert user.timezone == "UTC"
    assert user.date_of_birth is None
    assert user.status == User.Status.PENDING
    assert user.check_password(registration_payload()["password"])
    assert not user.is_staff


def test_register_accepts_a_mononym(register):
    response = register(last_name="")
    assert response.status_code == 202


def test_malformed_json_is_400(api_client, assert_nothing_written):
    response = api_client.post(REGISTER_URL, data='{"email": "a@example.com",', content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "parse_error"


def test_json_that_is_not_an_object_is_400(api_client, assert_nothing_written):
    response = api_client.post(REGISTER_URL, data=json.dumps(["a@example.com"]), content_type="application/json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["non_field_errors"]


def test_form_encoded_body_is_415(api_client, assert_nothing_written):
    response = api_client.post(REGISTER_URL, data=registration_payload(), format="multipart")
    assert response.status_code == 415
    assert response.data["code"] == "unsupported_media_type"


def test_oversized_body_is_413(api_client, settings, assert_nothing_written):
    payload = registration_payload(first_name="A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    response = api_client.post(REGISTER_URL, payload, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"email": "not-an-email"}, "email", "invalid"),
        ({"email": "a@"}, "email", "invalid"),
        ({"email": 42}, "email", "not_a_string"),
        ({"email": None}, "email", "null"),
        ({"email": "a\x00b@example.com"}, "email", "null_characters_not_allowed"),
        ({"first_name": ["Ada"]}, "first_name", "not_a_string"),
        ({"first_name": 7}, "first_name", "not_a_string"),
        ({"first_name": ""}, "first_name", "blank"),
        ({"first_name": "A" * 151}, "first_name", "max_length"),
        ({"password": 123456789012}, "password", "not_a_string"),
        ({"date_of_birth": "10/12/1990"}, "date_of_birth", "invalid"),
        ({"date_of_birth": 19901210}, "date_of_birth", "invalid"),
        ({"date_of_birth": "1990-02-30"}, "date_of_birth", "invalid"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth", "future_date"),
        ({"date_of_birth": "1850-01-01"}, "date_of_birth", "too_early"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "invalid_timezone"),
        ({"timezone": "europe/berlin"}, "timezone", "invalid_timezone"),
        ({"timezone": 1}, "timezone", "not_a_string"),
    ],
)
def test_bad_field_is_400_naming_it(register, assert_nothing_written, overrides, field, code):
    response = register(**overrides)
    assert response.status_code == 400, response.data
    assert list(response.data["errors"]) == [field]
    assert response.data["errors"][field][0].code == code
    assert response.data["code"] == code


@pytest.mark.parametrize("missing", ["email", "password", "first_name", "last_name"])
def test_missing_required_field_is_400(api_client, assert_nothing_written, missing):
    payload = registration_payload()
    del payload[missing]
    response = api_client.post(REGISTER_URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == [missing]
    assert response.data["code"] == "required"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1!", "password_too_short"),
        ("password123", "password_too_common"),
        ("8473629105", "password_entirely_numeric"),
        ("lovelace-ada", "password_too_similar"),
    ],
)
def test_weak_password_is_400_on_password(register, assert_nothing_written, password, code):
    response = register(password=password)
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["password"]
    codes = {error.code for error in response.data["errors"]["password"]}
    assert code in codes


def test_an_existing_address_gets_the_same_answer_and_its_owner_an_email(register):
    """
    GIVEN a verified account for ada@example.com
    WHEN someone signs up with that address, in any case
    THEN the answer is exactly a new address's, nothing is created, and the owner is told
    """
    UserFactory(email="ada@example.com", first_name="Ada")
    fresh = register(email="new@example.com")
    response = register(email="ADA@Example.COM")
    assert response.status_code == fresh.status_code == 202
    assert response.json() == fresh.json()
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1
    assert [message.to for message in mail.outbox] == [["new@example.com"], ["ada@example.com"]]
    assert "already has an account" in mail.outbox[-1].body
    assert not EmailVerification.objects.filter(user__email="ada@example.com").exists()


def test_an_address_still_pending_gets_a_new_code_instead(register):
    register()
    response = register()
    assert response.status_code == 202
    assert User.objects.filter(email="ada@example.com").count() == 1
    assert len(mail.outbox) == 2
    assert EmailVerification.objects.filter(user__email="ada@example.com").count() == 2
    assert mail.outbox[-1].to == ["ada@example.com"]
    assert code_from(mail.outbox[-1])
    assert EmailVerification.objects.filter(invalidated_at__isnull=False).count() == 1  # the first one ends


def test_several_problems_are_reported_together(register):
    UserFactory(email="ada@example.com")
    response = register(password="short", date_of_birth="2999-01-01", timezone="Nowhere/Land")
    assert response.status_code == 400
    assert set(response.data["errors"]) == {"password", "date_of_birth", "timezone"}
    assert User.objects.count() == 1
    assert not EmailVerification.objects.exists()


def test_register_with_a_stale_bearer_token_is_still_public(api_client, register):
    """A leftover token in the client must not break sign-up (the endpoint ignores authentication)."""
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.valid.token")
    response = register()
    assert response.status_code == 202


def test_a_mail_server_failure_does_not_fail_the_sign_up(register, settings, caplog):
    # A real SMTP client against a port where nothing listens: the connection is refused.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    response = register()
    assert response.status_code == 202
    assert User.objects.filter(email="ada@example.com", status=User.Status.PENDING).exists()
    assert "Could not send accounts/email/verification_code to a user" in caplog.text
