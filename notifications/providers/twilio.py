"""SMS and WhatsApp through the twilio client.

A custom HTTP client points the real twilio library at ``settings.TWILIO_API_BASE_URL``
(a local fake in tests and benchmarks), never retries (twilio-python doesn't unless told)
and never follows redirects. SMS and WhatsApp are billed per message, so anything that may
have reached Twilio (a read timeout, a dropped connection, error 20500) is "outcome
unknown" and is not retried automatically.

WhatsApp allows free-form text only within 24 hours of the person's last message (the
session window, known from inbound messages: ``Message.whatsapp_session_open``); outside
it only an approved template (``whatsapp_template_sid``) may be sent. Without one, the
message is refused here (``whatsapp_session_closed``) and Twilio is never called.

With a status callback URL configured, each message asks Twilio to post its delivery
receipts there, with the notification id in the query (``?n=…``) so a receipt that
arrives before the worker recorded the message SID still finds its row.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.providers.base import (
    Message,
    OutcomeUnknown,
    PermanentError,
    SendResult,
    TransientError,
    truncate,
)

TWILIO_ORIGIN = "https://api.twilio.com"

# Error codes that no retry will fix (https://www.twilio.com/docs/api/errors).
PERMANENT_CODES = {
    20003: "authentication_failed",
    20404: "not_found",
    21211: "invalid_to_number",
    21408: "region_not_enabled",
    21606: "from_number_not_sms_capable",
    21608: "unverified_number_on_trial_account",
    21610: "recipient_unsubscribed",
    21612: "unreachable_to_number",
    21614: "not_a_mobile_number",
    21659: "from_number_not_owned",
    63007: "whatsapp_sender_not_found",
    63016: "outside_whatsapp_session_window",
}
WHATSAPP_SESSION_CLOSED = (
    "whatsapp_session_closed: the person has not written to this WhatsApp sender in the last 24 hours "
    "and the channel has no approved template (whatsapp_template_sid); nothing was sent"
)
RATE_LIMIT_CODES = frozenset({20429, 14107})
UNKNOWN_OUTCOME_CODES = frozenset({20500})


class BaseUrlHttpClient(TwilioHttpClient):
    """twilio's HTTP client with the API origin replaced by ours and no retries or redirects."""

    def __init__(self, *, base_url: str, timeout: float):
        super().__init__(timeout=timeout, pool_connections=True)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, **kwargs):
        if url.startswith(TWILIO_ORIGIN):
            url = self.base_url + url[len(TWILIO_ORIGIN) :]
        kwargs["allow_redirects"] = False
        return super().request(
            method, url, params=params, data=data, headers=headers, auth=auth, timeout=timeout, **kwargs
        )


class TwilioProvider:
    """One sender (number or messaging service) of one Twilio account, for SMS or WhatsApp."""

    def __init__(
        self,
        *,
        channel: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        messaging_service_sid: str,
        whatsapp_template_sid: str,
        base_url: str,
        timeout: float,
        rate_per_second: float | None,
        status_callback_url: str = "",
    ):
        self.channel = channel
        self.name = f"twilio_{channel}"
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.whatsapp_template_sid = whatsapp_template_sid
        self.base_url = base_url
        self.timeout = timeout
        self.rate_per_second = rate_per_second
        self.status_callback_url = status_callback_url
        self.rate_key = f"twilio:{channel}:{account_sid}:{messaging_service_sid or from_number}"

    def _address(self, number: str) -> str:
        return f"whatsapp:{number}" if self.channel == "whatsapp" else number

    def message_params(self, message: Message) -> dict:
        params: dict = {"to": self._address(message.recipient)}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self._address(self.from_number)
        if self.status_callback_url:
            separator = "&" if "?" in self.status_callback_url else "?"
            params["status_callback"] = self.status_callback_url + separator + urlencode({"n": message.notification_id})
        if self.channel != "whatsapp" or message.whatsapp_session_open:
            params["body"] = message.body
        elif self.whatsapp_template_sid:
            # Outside the session window: the approved template, its variable {{1}} carrying the text.
            params["content_sid"] = self.whatsapp_template_sid
            params["content_variables"] = json.dumps({"1": message.body})
        else:
            raise PermanentError(WHATSAPP_SESSION_CLOSED)
        return params

    def send(self, message: Message) -> SendResult:
        params = self.message_params(message)  # may refuse (closed WhatsApp session) before any request
        client = Client(
            username=self.account_sid,
            password=self.auth_token,
            account_sid=self.account_sid,
            http_client=BaseUrlHttpClient(base_url=self.base_url, timeout=self.timeout),
        )
        try:
            created = client.messages.create(**params)
        except TwilioRestException as exc:
            raise classify_twilio_error(exc) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientError(f"{self.name}: timed out connecting to Twilio") from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise TransientError(f"{self.name}: could not connect to Twilio") from exc
            raise OutcomeUnknown(f"{self.name}: connection lost after sending") from exc
        except requests.exceptions.Timeout as exc:
            raise OutcomeUnknown(f"{self.name}: timed out waiting for Twilio's answer") from exc
        except requests.exceptions.RequestException as exc:
            raise OutcomeUnknown(f"{self.name}: {type(exc).__name__}") from exc
        return SendResult(provider_message_id=created.sid or "", status_code=201, detail=f"{created.status}")


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """Whether the error happened before a connection existed (so Twilio got nothing)."""
    text = repr(exc.args[0]) if exc.args else repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "ConnectionRefused", "NameResolutionError"))


def classify_twilio_error(exc: TwilioRestException) -> Exception:
    code = exc.code
    status = exc.status
    reason = truncate(f"twilio {code or status}: {exc.msg}", 300)
    if code in PERMANENT_CODES:
        return PermanentError(f"{PERMANENT_CODES[code]} ({reason})", status_code=status)
    if status == 429 or code in RATE_LIMIT_CODES:
        return TransientError(f"rate_limited ({reason})", status_code=status)
    if code in UNKNOWN_OUTCOME_CODES or (status is not None and status >= 500 and status != 503):
        return OutcomeUnknown(f"may have been sent ({reason})", status_code=status)
    if status == 503:
        return TransientError(reason, status_code=status)
    return PermanentError(reason, status_code=status)
