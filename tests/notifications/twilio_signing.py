"""Signing webhook requests the way Twilio does, for the hook tests."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from twilio.request_validator import RequestValidator

from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN

PUBLIC_BASE_URL = "https://bb.example.com"
FORM = "application/x-www-form-urlencoded"


def status_path(notification_id=None, *, channel=None) -> str:
    """The channel's own status URL, or (without ``channel``) the shared one of earlier releases."""
    if channel is not None:
        path = reverse("twilio-channel-status-hook", kwargs={"channel_id": channel.pk})
    else:
        path = reverse("twilio-status-hook")
    return f"{path}?{urlencode({'n': str(notification_id)})}" if notification_id else path


def inbound_path(channel) -> str:
    return reverse("twilio-channel-inbound-hook", kwargs={"channel_id": channel.pk})


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict, *, token: str = AUTH_TOKEN, base: str = PUBLIC_BASE_URL, **extra):
    """POSTs ``params`` form-encoded to ``path``, signed for ``base + path`` with ``token``."""
    signature = sign(base + path, params, token)
    return client.post(path, data=urlencode(params), content_type=FORM, HTTP_X_TWILIO_SIGNATURE=signature, **extra)


def status_params(message_sid: str, status: str, *, account_sid: str = ACCOUNT_SID, **more) -> dict:
    return {
        "AccountSid": account_sid,
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+14155550123",
        "From": "+14155550100",
        "ApiVersion": "2010-04-01",
        **more,
    }


def inbound_params(
    *, from_: str, to: str, body: str, account_sid: str = ACCOUNT_SID, sid: str = "SM" + "e5" * 16, **more
) -> dict:
    return {
        "AccountSid": account_sid,
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "ApiVersion": "2010-04-01",
        **more,
    }
