"""Providers behind one small interface (see ``base.py``), chosen per channel config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from notifications import conf
from notifications.providers.base import (
    DeliveryError,
    Message,
    OutcomeUnknown,
    PermanentError,
    Provider,
    SendResult,
    TransientError,
)
from notifications.providers.chat_webhooks import GoogleChatWebhookProvider, TeamsWebhookProvider
from notifications.providers.console import ConsoleProvider
from notifications.providers.email import EmailProvider
from notifications.providers.slack import SlackBotProvider, SlackWebhookProvider
from notifications.providers.twilio import TwilioProvider

if TYPE_CHECKING:
    from notifications.models import ChannelConfig
    from workspaces.models import Workspace

__all__ = [
    "DeliveryError",
    "Message",
    "OutcomeUnknown",
    "PermanentError",
    "Provider",
    "SendResult",
    "TransientError",
    "provider_for",
]

# Team chats reached through an incoming webhook URL (Microsoft Teams, Google Chat).
CHAT_WEBHOOK_PROVIDERS: dict[str, type[TeamsWebhookProvider | GoogleChatWebhookProvider]] = {
    "teams": TeamsWebhookProvider,
    "gchat": GoogleChatWebhookProvider,
}


def provider_for(*, channel: str, config: ChannelConfig | None, workspace: Workspace) -> Provider:
    """The provider for a message on ``channel`` with the workspace's ``config`` (the caller picks an active one).

    Without a config: email uses the platform's SMTP settings; other channels use the
    console/outbox provider when the console fallback is on (the embedded default), else
    ``PermanentError("channel_not_configured")``.
    """
    if config is None and channel == "email":
        # Email needs no channel of its own: the platform's SMTP settings (EMAIL_URL) with the
        # workspace's sender name. An email channel config only overrides the sender.
        return EmailProvider(
            from_name=workspace.sender_name or workspace.name,
            reply_to=workspace.sender_email,
            rate_key=f"email:{workspace.pk}",
            rate_per_second=conf.default_rates().get(channel),
        )
    if config is None:
        if conf.console_fallback():
            return ConsoleProvider(outbox_dir=conf.outbox_dir())
        raise PermanentError("channel_not_configured")
    rate = config.rate_per_second or conf.default_rates().get(channel)
    if channel == "slack":
        if config.webhook_url:
            return SlackWebhookProvider(
                webhook_url=config.webhook_url, timeout=conf.slack_timeout(), rate_per_second=rate
            )
        if config.bot_token:
            return SlackBotProvider(
                bot_token=config.bot_token,
                base_url=settings.SLACK_API_BASE_URL,
                timeout=conf.slack_timeout(),
                rate_per_second=rate,
                channel=config.channel_id,
            )
        raise PermanentError("channel_not_configured: the Slack channel has neither a webhook nor a bot token")
    if channel == "email":
        return EmailProvider(
            from_name=config.from_name or workspace.sender_name or workspace.name,
            reply_to=config.reply_to or workspace.sender_email,
            rate_key=f"email:{workspace.pk}",
            rate_per_second=rate,
        )
    if channel in CHAT_WEBHOOK_PROVIDERS:
        if not config.webhook_url:
            raise PermanentError("channel_not_configured: the channel has no webhook URL")
        return CHAT_WEBHOOK_PROVIDERS[channel](
            webhook_url=config.webhook_url, timeout=conf.chat_webhook_timeout(), rate_per_second=rate
        )
    if channel in {"sms", "whatsapp"}:
        account_sid = config.account_sid or settings.TWILIO_ACCOUNT_SID
        auth_token = config.auth_token or (settings.TWILIO_AUTH_TOKEN if not config.account_sid else "")
        if not account_sid or not auth_token:
            raise PermanentError("channel_not_configured: Twilio credentials are missing")
        return TwilioProvider(
            channel=channel,
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=config.from_number,
            messaging_service_sid=config.messaging_service_sid,
            whatsapp_template_sid=config.whatsapp_template_sid if channel == "whatsapp" else "",
            base_url=settings.TWILIO_API_BASE_URL,
            timeout=conf.twilio_timeout(),
            rate_per_second=rate,
            status_callback_url=conf.twilio_status_callback_url(config.pk),
        )
    raise PermanentError(f"unknown_channel: {channel}")
