"""Email verification codes: expiry, attempt limit, reuse, resend."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from accounts import registration
from accounts.models import EmailVerification, User
from birthdaybuddy.errors import ApplicationError
from tests.accounts.conftest import RESEND_URL, VERIFY_URL, code_from, reset_throttles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def verify(api_client, email: str, code: str):
    return api_client.post(VERIFY_URL, {"email": email, "code": code}, format="json")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_wrong_code_counts_attempts_and_keeps_user_pending(api_client, registered):
    email, code = registered
    response = verify(api_client, email, wrong(code))
    assert response.status_code == 400
    assert response.data["code"] == "invalid_code"
    assert response.data["attempts_remaining"] == 4
    assert EmailVerification.objects.get(user__email=email).attempts == 1
    assert User.objects.get(email=email).status == User.Status.PENDING


def test_five_wrong_tries_invalidate_the_code(api_client, registered):
    email, code = registered
    codes = [verify(api_client, email, wrong(code)).data["code"] for _ in range(5)]
    assert codes == ["invalid_code"] * 4 + ["too_many_attempts"]
    verification = EmailVerification.objects.get(user__email=email)
    assert verification.attempts == 5
    assert verification.invalidated_at is not None

    # Even the right code no longer works (the per-email throttle is reset for this check).
    reset_throttles()
    response = verify(api_client, email, code)
    assert response.status_code == 400
    assert response.data["code"] == "too_many_attempts"
    assert User.objects.get(email=email).status == User.Status.PENDING


def test_expired_code_is_refused(api_client, registered, settings):
    email, code = registered
    with time_machine.travel(timezone.now() + settings.VERIFICATION_CODE_TTL + timedelta(seconds=1), tick=False):
        response = verify(api_client, email, code)
    assert response.status_code == 400
    assert response.data["code"] == "code_expired"
    assert User.objects.get(email=email).status == User.Status.PENDING


def test_code_just_before_expiry_still_works(api_client, registered, settings):
    email, code = registered
    with time_machine.travel(timezone.now() + settings.VERIFICATION_CODE_TTL - timedelta(seconds=5), tick=False):
        response = verify(api_client, email, code)
    assert response.status_code == 200


def test_reused_code_is_refused(api_client, registered):
    email, code = registered
    assert verify(api_client, email, code).status_code == 200
    response = verify(api_client, email, code)
    assert response.status_code == 400
    assert response.data["code"] == "invalid_code"


def test_unknown_email_looks_like_a_wrong_code(api_client, db):
    response = verify(api_client, "nobody@example.com", "123456")
    assert response.status_code == 400
    assert response.data == {
        "detail": "This code is not valid. Check it, or ask for a new one.",
        "code": "invalid_code",
    }


def test_code_of_another_user_does_not_work(api_client, register):
    register(email="one@example.com")
    register(email="two@example.com")
    code_of_one = code_from(mail.outbox[0])
    response = verify(api_client, "two@example.com", code_of_one)
    if code_from(mail.outbox[1]) == code_of_one:  # one in a million
        pytest.skip("both users drew the same code")
    assert response.status_code == 400
    assert User.objects.get(email="one@example.com").status == User.Status.PENDING


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a@example.com", "code": "12345"}, "code"),
        ({"email": "a@example.com", "code": "abcdef"}, "code"),
        ({"email": "a@example.com", "code": 123456}, "code"),
        ({"email": "a@example.com", "code": "1234567"}, "code"),
        ({"email": "not-an-email", "code": "123456"}, "email"),
        ({"code": "123456"}, "email"),
    ],
)
def test_malformed_verify_input_is_400_and_not_an_attempt(api_client, registered, payload, field):
    response = api_client.post(VERIFY_URL, payload, format="json")
    assert response.status_code == 400
    assert list(response.data["errors"]) == [field]
    assert EmailVerification.objects.get().attempts == 0


def test_resend_sends_a_new_code_and_invalidates_the_old_one(api_client, registered, post_committed):
    email, old_code = registered
    response = post_committed(RESEND_URL, {"email": email.upper()})
    assert response.status_code == 202
    assert len(mail.outbox) == 2
    new_code = code_from(mail.outbox[1])
    assert EmailVerification.objects.filter(user__email=email).count() == 2
    assert EmailVerification.objects.filter(user__email=email, invalidated_at__isnull=True).count() == 1
    if new_code != old_code:
        assert verify(api_client, email, old_code).data["code"] == "invalid_code"
    assert verify(api_client, email, new_code).status_code == 200


def test_resend_resets_the_attempt_limit(api_client, registered, post_committed):
    email, code = registered
    for _ in range(5):
        verify(api_client, email, wrong(code))
    reset_throttles()
    post_committed(RESEND_URL, {"email": email})
    assert verify(api_client, email, code_from(mail.outbox[-1])).status_code == 200


def test_resend_for_unknown_or_verified_address_is_202_and_sends_nothing(post_committed, db):
    verified = UserFactory(status=User.Status.VERIFIED)
    for email in ("nobody@example.com", verified.email):
        response = post_committed(RESEND_URL, {"email": email})
        assert response.status_code == 202
        assert response.data["detail"].startswith("If that address")
    assert mail.outbox == []
    assert not EmailVerification.objects.exists()


def test_resend_with_bad_email_is_400(post_committed, db):
    response = post_committed(RESEND_URL, {"email": "nope"})
    assert response.status_code == 400
    assert list(response.data["errors"]) == ["email"]


@pytest.fixture
def fixed_code(monkeypatch):
    monkeypatch.setattr(registration.secrets, "randbelow", lambda upper: 4321)
    return "004321"


def test_verify_service_counts_a_wrong_guess_even_though_it_raises(db, fixed_code):
    user = UserFactory(status=User.Status.PENDING)
    registration.verification_send(user=user)
    with pytest.raises(ApplicationError) as excinfo:
        registration.user_verify(email=user.email, code="000000")
    assert excinfo.value.code == "invalid_code"
    assert excinfo.value.extra == {"attempts_remaining": 4}
    assert EmailVerification.objects.get(user=user).attempts == 1

    verified = registration.user_verify(email=user.email, code=fixed_code)
    assert verified.status == User.Status.VERIFIED
    assert EmailVerification.objects.get(user=user).used_at is not None


def test_code_is_zero_padded_and_only_its_hash_is_stored(db, fixed_code, django_capture_on_commit_callbacks):
    user = UserFactory(status=User.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        verification = registration.verification_send(user=user)
    assert code_from(mail.outbox[0]) == "004321"
    assert "4321" not in verification.code_hash


def test_verification_email_is_sent_only_after_commit(db, django_capture_on_commit_callbacks):
    user = UserFactory(status=User.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        registration.verification_send(user=user)
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
