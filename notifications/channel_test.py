"""A channel's test message: where it may go, and what the provider answered.

``services.channel_config_send_test`` sends it (and audits it); here are the rules for its
recipient and the send itself, which follows delivery's rules (rate limit, WhatsApp window).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from birthdaybuddy.errors import ApplicationError
from birthdaybuddy.validators import normalize_phone
from notifications import conf, ratelimit, whatsapp
from notifications.models import ChannelConfig
from notifications.providers import DeliveryError, Message, OutcomeUnknown, provider_for
from notifications.providers.twilio import TwilioProvider
from workspaces.models import CHAT_WEBHOOK_CHANNELS, Channel

logger = logging.getLogger("notifications.services")


@dataclass(frozen=True)
class ChannelTestResult:
    ok: bool
    outcome: str
    provider: str
    recipient: str
    status_code: int | None
    provider_message_id: str
    detail: str


NOT_A_MEMBERS_ADDRESS = (
    "Test messages go only to your own {what} or to a verified member's of this workspace; this one is neither."
)


def test_recipient(config: ChannelConfig, recipient: str | None, user) -> str:
    """Where a test message goes: Slack, Teams and Google Chat their channel; email and SMS/WhatsApp the caller's own
    address or phone (the default) or a verified member's of the workspace — never a stranger's,
    so the test is not a way to mail anyone. A command run on the server (no ``user``) may name any."""
    kind = config.kind
    if kind == Channel.SLACK:
        return config.channel_id if config.bot_token else "webhook"
    if kind in CHAT_WEBHOOK_CHANNELS:
        return "webhook"  # the webhook's own channel or space
    if kind == Channel.EMAIL:
        recipient = recipient or getattr(user, "email", "")
        if not recipient:
            raise ValidationError({"recipient": ["Give the address to send the test email to."]})
        try:
            validate_email(recipient)
        except ValidationError as exc:
            raise ValidationError({"recipient": ["Enter a valid email address."]}) from exc
        recipient = recipient.strip()
        if user is not None and recipient.lower() != (user.email or "").lower():
            members = _verified_members(config).filter(email__iexact=recipient)
            if not members.exists():
                raise ValidationError({"recipient": [NOT_A_MEMBERS_ADDRESS.format(what="address")]})
        return recipient
    recipient = recipient or getattr(user, "phone", "")
    if not recipient:
        raise ValidationError({"recipient": ["Give the phone number (E.164) to send the test message to."]})
    try:
        phone = normalize_phone(recipient)
    except ValidationError as exc:
        raise ValidationError({"recipient": exc.messages}) from exc
    if user is not None and phone != (user.phone or "") and not _verified_members(config).filter(phone=phone).exists():
        raise ValidationError({"recipient": [NOT_A_MEMBERS_ADDRESS.format(what="phone number")]})
    return phone


def _verified_members(config: ChannelConfig):
    from accounts.models import User

    return User.objects.filter(
        memberships__workspace_id=config.workspace_id, status=User.Status.VERIFIED, is_active=True
    )


def _whatsapp_test_session_open(provider, recipient: str) -> bool:
    if not isinstance(provider, TwilioProvider) or provider.channel != Channel.WHATSAPP:
        return False
    sessions = whatsapp.whatsapp_sessions_open(phones=[recipient], now=timezone.now())
    return whatsapp.whatsapp_session_is_open(
        sessions.get(recipient, ()),
        account_sid=provider.account_sid,
        from_number=provider.from_number,
        messaging_service_sid=provider.messaging_service_sid,
    )


def send_test(config: ChannelConfig, recipient: str) -> ChannelTestResult:
    workspace = config.workspace
    try:
        provider = provider_for(channel=config.kind, config=config, workspace=workspace)
    except DeliveryError as exc:
        return ChannelTestResult(False, exc.outcome, "", recipient, exc.status_code, "", exc.reason)
    if conf.rate_limit_enabled() and provider.rate_key and provider.rate_per_second:
        wait = ratelimit.reserve(provider.rate_key, rate_per_second=provider.rate_per_second, max_wait=0)
        if wait:
            raise ApplicationError(
                "This destination just received a message; try again in a moment.",
                code="rate_limited",
                status=429,
                extra={"retry_after": max(1, round(abs(wait)))},
            )
    message = Message(
        notification_id=str(uuid.uuid4()),
        channel=config.kind,
        recipient=recipient,
        subject=f"BirthdayBuddy test message for {workspace.name}",
        body=f"✅ BirthdayBuddy test message for {workspace.name}: this channel works.",
        workspace_name=workspace.name,
        whatsapp_session_open=_whatsapp_test_session_open(provider, recipient),
    )
    try:
        result = provider.send(message)
    except DeliveryError as exc:
        logger.info("test message on %s channel %s: %s %s", config.kind, config.pk, exc.outcome, exc.reason)
        return ChannelTestResult(False, exc.outcome, provider.name, recipient, exc.status_code, "", exc.reason)
    except Exception as exc:
        logger.exception("test message on channel %s failed unexpectedly", config.pk)
        error = OutcomeUnknown(f"unexpected error: {type(exc).__name__}")
        return ChannelTestResult(False, error.outcome, provider.name, recipient, None, "", error.reason)
    logger.info("test message on %s channel %s: sent", config.kind, config.pk)
    return ChannelTestResult(
        True, "sent", provider.name, recipient, result.status_code, result.provider_message_id, result.detail
    )
