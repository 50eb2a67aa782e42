"""The provider interface: one ``send`` per message, three ways to fail.

A provider answers with a :class:`SendResult` or raises one of

- :class:`TransientError`: not delivered, safe to try again (5xx, 429, connection refused),
  optionally after ``retry_after`` seconds;
- :class:`PermanentError`: will never work as configured (invalid number, channel not
  found, revoked token); ``reason`` is the provider's own word for it;
- :class:`OutcomeUnknown`: the request may have reached the provider (a timeout or a
  dropped connection after the request was sent): retrying may deliver twice.

Providers are plain objects built from a channel config's decrypted values; they never
touch the database, so a batch can run them in threads or an event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class DeliveryError(Exception):
    outcome = "error"

    def __init__(self, reason: str, *, status_code: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class TransientError(DeliveryError):
    outcome = "transient"

    def __init__(self, reason: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(reason, status_code=status_code)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    outcome = "permanent"


class OutcomeUnknown(DeliveryError):
    outcome = "unknown"


@dataclass(frozen=True)
class Message:
    """What to send, as plain data."""

    notification_id: str
    channel: str
    recipient: str
    body: str
    subject: str = ""
    workspace_name: str = ""
    #: WhatsApp only: the recipient wrote to this sender within the session window, so
    #: free-form text is allowed. Closed (the safe default) means template or nothing.
    whatsapp_session_open: bool = False
    #: Email only: an iCalendar object (RFC 5545) to attach; its METHOD says what it asks of a calendar.
    calendar: str = ""
    #: The person's preferences page and invitation page, when the message carries them.
    preferences_url: str = ""
    rsvp_url: str = ""
    #: Slack only: Block Kit blocks sent with ``body`` (then the plain-text fallback).
    blocks: list | None = None
    #: Slack bot only: the ``ts`` of the message this one replies to in its thread.
    thread_ts: str = ""
    #: The chosen variant's picture (https, checked when the variant was saved) and its alt text:
    #: Slack shows it as an image attachment, email as an ``<img>`` in the HTML part.
    image_url: str = ""
    image_alt: str = ""

    @property
    def calendar_method(self) -> str:
        """``REQUEST``, ``CANCEL``, … from the attached calendar's METHOD (empty without one)."""
        for line in self.calendar.splitlines():
            name, _, value = line.partition(":")
            if name.upper() == "METHOD":
                return value.strip().upper()
            if name.upper() == "BEGIN" and value.strip().upper() != "VCALENDAR":
                break  # METHOD is a calendar property: it comes before the first component
        return ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str = ""
    status_code: int | None = None
    detail: str = ""
    extra: dict = field(default_factory=dict)


class Provider(Protocol):
    #: A short name for logs and the test endpoint's answer ("slack_webhook", "twilio_sms", …).
    name: str
    #: The rate-limit bucket this provider's sends share (``None``: not limited).
    rate_key: str | None
    #: Messages per second for that bucket.
    rate_per_second: float | None

    def send(self, message: Message) -> SendResult: ...


def parse_retry_after(value) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds; an HTTP date is treated as unknown)."""
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def truncate(text: str, limit: int = 300) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
