"""Twilio status callbacks: signed receipts move notifications forward, never back."""

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from notifications.delivery.common import Job
from notifications.delivery.outcome import record
from notifications.models import DeliveryAttempt, Notification
from notifications.providers import OutcomeUnknown, SendResult
from notifications.services import notification_deliver
from tests.audit_checks import failure_entries
from tests.factories import WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory, NotificationFactory
from tests.notifications.twilio_signing import (
    FORM,
    PUBLIC_BASE_URL,
    post_signed,
    sign,
    status_params,
    status_path,
)

pytestmark = pytest.mark.django_db

SID = "SM" + "d4" * 16


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""


@pytest.fixture
def sms_config():
    return ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100"
    )


def sent_sms(config, *, sid=SID, status="sent", **fields):
    return NotificationFactory(
        workspace=config.workspace,
        channel="sms",
        recipient="+14155550123",
        status=status,
        provider_message_id=sid,
        sent_at=timezone.now() if status != "sending" else None,
        **fields,
    )


def callback(client, status, *, sid=SID, notification_id=None, **more):
    return post_signed(client, status_path(notification_id), status_params(sid, status, **more))


def test_delivered_receipt_marks_the_notification_delivered(client, sms_config):
    notification = sent_sms(sms_config)

    response = callback(client, "delivered")

    assert response.status_code == 200
    assert response.json() == {"result": "delivered"}
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert notification.delivered_at is not None


def test_undelivered_receipt_fails_with_the_error_code(client, sms_config):
    notification = sent_sms(sms_config)

    response = callback(client, "undelivered", ErrorCode="30003", ErrorMessage="Unreachable destination handset")

    assert response.json() == {"result": "failed"}
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.last_error == (
        "unreachable_handset (twilio 30003: Unreachable destination handset; undelivered)"
    )
    assert notification.delivered_at is None
    [entry] = failure_entries(notification)
    assert (entry["status"], entry["channel"]) == ("failed", "sms")
    assert "30003" in entry["error"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"ErrorCode": "30010"}, "twilio 30010 (failed)"),
        ({}, "failed (no error code)"),
    ],
)
def test_failed_receipt_without_a_known_code(client, sms_config, params, expected):
    notification = sent_sms(sms_config)

    callback(client, "failed", **params)

    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == ("failed", expected)


@pytest.mark.parametrize("later", ["sent", "queued", "undelivered", "failed", "delivered", "read"])
def test_a_delivered_notification_never_goes_back(client, sms_config, later):
    notification = sent_sms(sms_config)
    callback(client, "delivered")
    notification.refresh_from_db()
    delivered_at = notification.delivered_at

    response = callback(client, later, ErrorCode="30003")

    assert response.status_code == 200
    assert response.json()["result"] == "unchanged"
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert notification.delivered_at == delivered_at
    assert notification.last_error == ""


@pytest.mark.parametrize("progress", ["queued", "sent", "sending", "accepted"])
def test_progress_receipts_do_not_change_a_sent_notification(client, sms_config, progress):
    notification = sent_sms(sms_config)

    assert callback(client, progress).json() == {"result": "unchanged"}

    notification.refresh_from_db()
    assert notification.status == "sent"


def test_replayed_receipts_change_nothing(client, sms_config):
    notification = sent_sms(sms_config)
    callback(client, "undelivered", ErrorCode="30005")
    notification.refresh_from_db()
    first = (notification.status, notification.last_error, notification.updated_at)

    assert callback(client, "undelivered", ErrorCode="30005").json() == {"result": "unchanged"}

    notification.refresh_from_db()
    assert (notification.status, notification.last_error, notification.updated_at) == first


def test_unknown_message_sid_is_acknowledged_and_ignored(client, sms_config, caplog):
    notification = sent_sms(sms_config)
    caplog.set_level(logging.INFO, logger="notifications.twilio_hooks")

    response = post_signed(client, status_path(channel=sms_config), status_params("SM" + "00" * 16, "delivered"))

    assert response.status_code == 200
    assert response.json() == {"result": "unknown_sid"}
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert "unknown message" in caplog.text


@pytest.mark.parametrize(
    "forgery",
    ["missing", "wrong_token", "other_url", "tampered_params", "unknown_account"],
)
def test_forged_callbacks_get_403_and_change_nothing(client, sms_config, forgery):
    notification = sent_sms(sms_config)
    params = status_params(SID, "delivered")
    path = status_path()
    signature = sign(PUBLIC_BASE_URL + path, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature}
    if forgery == "missing":
        headers = {}
    elif forgery == "wrong_token":
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign(PUBLIC_BASE_URL + path, params, token="not-the-token")
    elif forgery == "other_url":
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign("https://evil.example" + path, params)
    elif forgery == "tampered_params":
        params = {**params, "MessageStatus": "undelivered"}
    elif forgery == "unknown_account":
        params = {**params, "AccountSid": "AC" + "ff" * 16}
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign(PUBLIC_BASE_URL + path, params)

    response = client.post(path, data=urlencode(params), content_type=FORM, **headers)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid_signature"
    notification.refresh_from_db()
    assert notification.status == "sent"
    assert notification.delivered_at is None


def test_json_body_is_refused(client, sms_config):
    response = client.post(
        status_path(), data={"MessageSid": SID}, content_type="application/json", HTTP_X_TWILIO_SIGNATURE="x"
    )
    assert response.status_code == 415


def test_a_token_only_touches_its_own_workspaces(client, sms_config):
    """GIVEN workspace B with its own Twilio account, and workspace A's admin who knows A's token
    WHEN A's token signs a receipt claiming B's message SID (and its notification id), on A's
    channel URL or on the shared URL
    THEN B's notification is not touched."""
    other_account = "AC" + "b7" * 16
    other = ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=other_account, auth_token="b-token", from_number="+14155550199"
    )
    victim = sent_sms(other, sid="SM" + "b7" * 16)

    forged = status_params(victim.provider_message_id, "undelivered", ErrorCode="30003")
    on_own_channel = post_signed(client, status_path(victim.pk, channel=sms_config), forged)
    on_shared_url = post_signed(client, status_path(victim.pk), forged)

    assert on_own_channel.status_code == 200
    assert on_own_channel.json() == {"result": "unknown_sid"}
    assert on_shared_url.status_code == 403  # checked against B's token only
    victim.refresh_from_db()
    assert victim.status == "sent"

    # B's own token works for B's message.
    response = post_signed(
        client,
        status_path(),
        status_params(victim.provider_message_id, "delivered", account_sid=other_account),
        token="b-token",
    )
    assert response.json() == {"result": "delivered"}


def test_platform_credentials_validate_channels_without_an_account(client, settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "9a" * 16
    settings.TWILIO_AUTH_TOKEN = "platform-token"
    config = ChannelConfigFactory(kind="sms", webhook_url=None, from_number="+14155550100")
    notification = sent_sms(config)

    response = post_signed(
        client, status_path(), status_params(SID, "delivered", account_sid="AC" + "9a" * 16), token="platform-token"
    )

    assert response.json() == {"result": "delivered"}
    notification.refresh_from_db()
    assert notification.status == "delivered"


def test_without_public_base_url_the_forwarded_scheme_is_used(client, sms_config, settings):
    """Behind a TLS-terminating proxy (NUM_PROXIES=1) Twilio signs https://…; X-Forwarded-Proto tells us so."""
    settings.PUBLIC_BASE_URL = ""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    notification = sent_sms(sms_config)

    response = post_signed(
        client,
        status_path(),
        status_params(SID, "delivered"),
        base="https://testserver",
        HTTP_X_FORWARDED_PROTO="https",
    )

    assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.status == "delivered"


# --- receipts that beat the worker, and unknown outcomes ---------------------------------------


def test_receipt_settles_an_unknown_outcome(client, sms_config):
    """GIVEN an SMS whose send timed out (status unknown, no SID recorded)
    WHEN Twilio's receipts arrive with our notification id in the callback URL
    THEN `sent` settles it as sent with its SID, and `delivered` as delivered."""
    notification = sent_sms(sms_config, sid="", status="unknown", last_error="timed out (attempt 1)")

    assert callback(client, "sent", notification_id=notification.pk).json() == {"result": "sent"}
    notification.refresh_from_db()
    assert (notification.status, notification.provider_message_id) == ("sent", SID)
    assert notification.sent_at is not None

    assert callback(client, "delivered", notification_id=notification.pk).json() == {"result": "delivered"}
    notification.refresh_from_db()
    assert notification.status == "delivered"


def test_the_hint_never_retargets_a_row_with_another_sid(client, sms_config):
    notification = sent_sms(sms_config, sid="SM" + "aa" * 16)

    assert callback(client, "undelivered", notification_id=notification.pk).json() == {"result": "unknown_sid"}
    notification.refresh_from_db()
    assert notification.status == "sent"


@pytest.mark.parametrize("hint", ["not-a-uuid", str(uuid.uuid4())])
def test_a_bad_or_unknown_hint_is_ignored(client, sms_config, hint):
    params = status_params("SM" + "01" * 16, "delivered")

    on_channel = post_signed(client, status_path(channel=sms_config) + f"?n={hint}", params)
    on_shared_url = post_signed(client, status_path() + f"?n={hint}", params)

    assert on_channel.json() == {"result": "unknown_sid"}
    assert on_shared_url.status_code == 403  # no notification names a channel whose token could be checked


@pytest.mark.parametrize(
    ("result", "error"),
    [(SendResult(provider_message_id=SID, status_code=201), None), (None, OutcomeUnknown("timed out"))],
)
def test_a_receipt_that_beats_the_worker_is_kept(client, sms_config, result, error):
    """GIVEN a worker that claimed an SMS and is waiting for Twilio's answer (status sending)
    WHEN the delivered receipt arrives first (found by the ?n= id)
    THEN the row is delivered, and the worker's late record (sent, or a timeout) keeps it delivered."""
    token = uuid.uuid4()
    notification = sent_sms(sms_config, sid="", status="sending", claim_token=token, attempts=1)

    assert callback(client, "delivered", notification_id=notification.pk).json() == {"result": "delivered"}

    notification.refresh_from_db()
    job = Job(notification, None, None, started_at=timezone.now(), result=result, error=error)
    record([job], token=token, now=timezone.now() + timedelta(seconds=1))

    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert notification.provider_message_id == SID
    assert notification.claim_token is None
    assert DeliveryAttempt.objects.filter(notification=notification).count() == 1


def test_status_callback_url_is_sent_with_each_message(client, sms_config, fake_twilio):
    notification = NotificationFactory(workspace=sms_config.workspace, channel="sms", recipient="+14155550123")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_twilio.received
    assert received.body["StatusCallback"] == (
        f"{PUBLIC_BASE_URL}/api/v1/hooks/twilio/channels/{sms_config.pk}/status?n={notification.pk}"
    )


def test_no_status_callback_without_a_public_url(sms_config, fake_twilio, settings):
    settings.PUBLIC_BASE_URL = ""
    notification = NotificationFactory(workspace=sms_config.workspace, channel="sms", recipient="+14155550123")

    notification_deliver(notification_id=notification.pk)

    assert "StatusCallback" not in fake_twilio.received[0].body


def test_explicit_status_callback_url(sms_config, fake_twilio, settings):
    settings.TWILIO_STATUS_CALLBACK_URL = "https://hooks.example.com/twilio/status?region=eu"
    notification = NotificationFactory(workspace=sms_config.workspace, channel="sms", recipient="+14155550123")

    notification_deliver(notification_id=notification.pk)

    assert fake_twilio.received[0].body["StatusCallback"] == (
        f"https://hooks.example.com/twilio/status?region=eu&n={notification.pk}"
    )


def test_the_hook_is_not_a_workspace_endpoint(client, sms_config):
    """Nothing of a workspace is revealed to an unsigned caller, whatever it sends."""
    WorkspaceFactory()
    response = client.post(status_path(), data="MessageSid=x&AccountSid=y", content_type=FORM)
    assert response.status_code == 403
    assert Notification.objects.filter(status="delivered").count() == 0


def test_the_answer_is_json_whatever_twilio_accepts(client, sms_config):
    response = client.post(status_path(), data="MessageSid=x", content_type=FORM, HTTP_ACCEPT="text/xml")
    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"


def test_the_hooks_have_their_own_generous_throttle(client, sms_config, settings):
    settings.TWILIO_HOOK_THROTTLE_RATE = "2/min"
    sent_sms(sms_config)
    answers = [callback(client, "sent").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
