"""Whose Twilio request is it: ``X-Twilio-Signature`` checked against one channel's token.

Each SMS/WhatsApp channel has its own hook URLs, carrying its id: the request is checked against
that one channel's auth token (or the platform's ``TWILIO_AUTH_TOKEN`` for a channel without an
account of its own) and may touch only that channel's workspace. The shared URLs of earlier
releases: see ``twilio_hooks.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from twilio.request_validator import RequestValidator

from notifications.models import ChannelConfig, Notification
from workspaces.models import Channel

TWILIO_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


@dataclass(frozen=True)
class TwilioScope:
    """What a validly signed request may touch: the channels (so the workspaces) using the token that signed it."""

    account_sid: str
    channels: QuerySet  # ChannelConfig rows; ``workspace_ids`` is their workspaces, as a subquery

    @property
    def workspace_ids(self) -> QuerySet:
        return self.channels.values("workspace_id")


def _channel_scope(config: ChannelConfig | None, *, url: str, params, signature: str) -> TwilioScope | None:
    """The scope of ``config`` alone if its token (one HMAC) signed the request, else ``None``."""
    if config is None or config.kind not in TWILIO_CHANNELS:
        return None
    account_sid = str(params.get("AccountSid") or "")
    if config.account_sid:
        expected_sid, token = config.account_sid, config.auth_token
    else:  # the channel sends with the platform's account
        expected_sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    if not signature or not token or not account_sid or account_sid != expected_sid:
        return None
    if not RequestValidator(token).validate(url, params, signature):
        return None
    return TwilioScope(account_sid=account_sid, channels=ChannelConfig.objects.filter(pk=config.pk))


CHANNEL_FIELDS = ("id", "workspace_id", "kind", "account_sid", "auth_token")


def channel_signature_scope(*, channel_id, url: str, params, signature: str) -> TwilioScope | None:
    """Checks ``X-Twilio-Signature`` of a request to a channel's own hook URL against that channel only.

    ``None`` when the channel is unknown (or not SMS/WhatsApp), the request names another
    account, or the signature is missing or forged. ``url`` must be the exact URL Twilio
    called (see ``notifications.conf.public_base_url``).
    """
    config = ChannelConfig.objects.filter(pk=channel_id, kind__in=TWILIO_CHANNELS).only(*CHANNEL_FIELDS).first()
    return _channel_scope(config, url=url, params=params, signature=signature)


def status_signature_scope(*, url: str, params, signature: str, notification_hint: str = "") -> TwilioScope | None:
    """The shared status URL (``/hooks/twilio/status``): the notification the receipt is about —
    by our ``?n=`` id, else by its message SID when exactly one notification has it — names
    the one channel whose token is checked."""
    rows = Notification.objects.filter(channel__in=TWILIO_CHANNELS)
    found = None
    if notification_hint:
        try:
            found = rows.filter(pk=uuid.UUID(notification_hint)).values("workspace_id", "channel").first()
        except ValueError:
            return None
    else:
        message_sid = str(params.get("MessageSid") or params.get("SmsSid") or "")
        matches = list(rows.filter(provider_message_id=message_sid).values("workspace_id", "channel")[:2])
        found = matches[0] if message_sid and len(matches) == 1 else None
    if found is None:
        return None
    config = (
        ChannelConfig.objects.filter(workspace_id=found["workspace_id"], kind=found["channel"])
        .only(*CHANNEL_FIELDS)
        .first()
    )
    return _channel_scope(config, url=url, params=params, signature=signature)


def platform_signature_scope(*, url: str, params, signature: str) -> TwilioScope | None:
    """The shared inbound URL, for the platform's own account: checked with ``TWILIO_AUTH_TOKEN``
    only; the scope is the channels that send with the platform's account."""
    account_sid = str(params.get("AccountSid") or "")
    platform_sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
    if not (platform_sid and token and signature and account_sid == platform_sid):
        return None
    if not RequestValidator(token).validate(url, params, signature):
        return None
    channels = ChannelConfig.objects.filter(kind__in=TWILIO_CHANNELS).filter(
        Q(account_sid="") | Q(account_sid=platform_sid)
    )
    return TwilioScope(account_sid=account_sid, channels=channels)
