"""Validation of channel configs, shared by the model, the API and the providers (at send time)."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from birthdaybuddy.validators import normalize_phone

if TYPE_CHECKING:
    from notifications.models import ChannelConfig

ACCOUNT_SID_RE = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGING_SERVICE_SID_RE = re.compile(r"MG[0-9a-fA-F]{32}")
CONTENT_SID_RE = re.compile(r"HX[0-9a-fA-F]{32}")
SLACK_CHANNEL_ID_RE = re.compile(r"[CGDU][A-Z0-9]{6,}")
SLACK_BOT_TOKEN_RE = re.compile(r"xox[bp]-[A-Za-z0-9-]{10,}")
# A destination's send rate: one message every 100 s at the slowest, 100 a second at the fastest.
MIN_RATE_PER_SECOND = 0.01
MAX_RATE_PER_SECOND = 100.0

# Which fields belong to which kind; a field of another kind is an error, not silently ignored.
KIND_FIELDS = {
    "slack": {"webhook_url", "bot_token", "channel_id"},
    "email": {"from_name", "reply_to"},
    "sms": {"account_sid", "auth_token", "from_number", "messaging_service_sid"},
    "whatsapp": {"account_sid", "auth_token", "from_number", "messaging_service_sid", "whatsapp_template_sid"},
}
ALL_KIND_FIELDS = set().union(*KIND_FIELDS.values())


def _parse_prefixes(prefixes) -> tuple[str, ...]:
    if isinstance(prefixes, str):
        prefixes = [prefix.strip() for prefix in prefixes.split(",")]
    return tuple(prefix for prefix in prefixes if prefix)


def webhook_url_error(url: str) -> str | None:
    """Why ``url`` may not be posted to, or ``None`` if it starts with an allowed prefix.

    The comparison is on parsed parts, not raw strings: scheme and host:port must match a
    prefix exactly and the path must extend the prefix's path, so
    ``https://hooks.slack.com.evil.example/`` or ``https://hooks.slack.com@evil.example/``
    never pass as ``https://hooks.slack.com/``.

    Checked again before every send, so the answer is remembered per URL and allow-list (the
    setting's current value is part of the key: a changed allow-list is applied at once).
    """
    if not isinstance(url, str) or not url:
        return "Enter the webhook URL."
    prefixes = settings.SLACK_WEBHOOK_URL_PREFIXES
    return _webhook_url_error(url, prefixes if isinstance(prefixes, str) else tuple(prefixes))


# Large enough for every workspace's webhook in a burst: a cyclic pass over more URLs than an
# LRU holds misses every time. ~0.2 KB an entry.
@functools.lru_cache(maxsize=32_768)
def _webhook_url_error(url: str, prefixes: str | tuple[str, ...]) -> str | None:
    allowed_prefixes = _parse_prefixes(prefixes)
    if len(url) > 500:
        return "The webhook URL is too long."
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        return "The webhook URL may not contain spaces, control characters or backslashes."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "Enter a valid URL."
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "The webhook URL may not contain credentials."
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return "Enter a valid https URL."
    for prefix in allowed_prefixes:
        allowed = urlsplit(prefix)
        if (
            parts.scheme == allowed.scheme
            and parts.hostname == (allowed.hostname or "").lower()
            and port == allowed.port
            and parts.path.startswith(allowed.path or "/")
        ):
            return None
    return "This URL is not an allowed Slack webhook; it must start with " + " or ".join(allowed_prefixes) + "."


def validate_webhook_url(url: str) -> None:
    error = webhook_url_error(url)
    if error:
        raise ValidationError(error, code="webhook_url_not_allowed")


def _twilio_platform_credentials() -> bool:
    return bool(getattr(settings, "TWILIO_ACCOUNT_SID", "") and getattr(settings, "TWILIO_AUTH_TOKEN", ""))


def channel_config_errors(config: ChannelConfig) -> dict[str, list[str]]:
    """Field errors of a channel config for its kind (empty when it can be used as is)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    kind = config.kind
    if kind not in KIND_FIELDS:
        add("kind", "Choose one of slack, email, sms, whatsapp.")
        return errors
    for field in sorted(ALL_KIND_FIELDS - KIND_FIELDS[kind]):
        if getattr(config, field):
            add(field, f"Not used by {kind} channels.")
    if kind != "slack" and config.digest_layout != "one_post":
        add("digest_layout", "Only Slack channels post the digest in a thread; leave it at one_post.")

    if kind == "slack":
        if config.webhook_url and (config.bot_token or config.channel_id):
            add("webhook_url", "Give either webhook_url, or bot_token and channel_id, not both.")
        elif config.webhook_url:
            error = webhook_url_error(config.webhook_url)
            if error:
                add("webhook_url", error)
        elif config.bot_token or config.channel_id:
            if not config.bot_token:
                add("bot_token", "A bot needs its token (xoxb-…).")
            elif not SLACK_BOT_TOKEN_RE.fullmatch(config.bot_token):
                add("bot_token", "Enter a Slack bot token (xoxb-…).")
            if not config.channel_id:
                add("channel_id", "A bot needs the id of the channel to post in (e.g. C0123456789).")
            elif not SLACK_CHANNEL_ID_RE.fullmatch(config.channel_id):
                add("channel_id", "Enter a Slack channel id such as C0123456789 (not the #name).")
        else:
            add("webhook_url", "Give either webhook_url, or bot_token and channel_id.")
    elif kind == "email":
        if config.from_name and any(ch in config.from_name for ch in "\r\n"):
            add("from_name", "The sender name must be on one line.")
        elif config.from_name and any(ch in config.from_name for ch in '@<>"\\'):
            add("from_name", "The sender name is a name, not an address: no @, <, >, quotes or backslashes.")
        if config.reply_to:
            try:
                validate_email(config.reply_to)
            except ValidationError:
                add("reply_to", "Enter a valid email address.")
    else:
        _twilio_errors(config, add)

    if config.rate_per_second is not None and not (
        MIN_RATE_PER_SECOND <= config.rate_per_second <= MAX_RATE_PER_SECOND  # false for NaN too
    ):
        add(
            "rate_per_second",
            f"Must be between {MIN_RATE_PER_SECOND:g} (one message every {1 / MIN_RATE_PER_SECOND:g} s) "
            f"and {MAX_RATE_PER_SECOND:g} messages per second.",
        )
    return errors


def _twilio_errors(config: ChannelConfig, add) -> None:
    platform = _twilio_platform_credentials()
    if config.account_sid:
        if not ACCOUNT_SID_RE.fullmatch(config.account_sid):
            add("account_sid", "Enter a Twilio account SID (AC followed by 32 hex digits).")
    elif not platform:
        add("account_sid", "Enter the Twilio account SID.")
    if not config.auth_token and not (platform and not config.account_sid):
        add("auth_token", "Enter the Twilio auth token.")
    if config.from_number and config.messaging_service_sid:
        add("from_number", "Give either from_number or messaging_service_sid, not both.")
    elif config.from_number:
        try:
            normalize_phone(config.from_number)
        except ValidationError as exc:
            add("from_number", exc.messages[0])
    elif config.messaging_service_sid:
        if not MESSAGING_SERVICE_SID_RE.fullmatch(config.messaging_service_sid):
            add("messaging_service_sid", "Enter a messaging service SID (MG followed by 32 hex digits).")
    else:
        add("from_number", "Give the sender: from_number (E.164) or messaging_service_sid.")
    if config.whatsapp_template_sid and not CONTENT_SID_RE.fullmatch(config.whatsapp_template_sid):
        add("whatsapp_template_sid", "Enter an approved template's content SID (HX followed by 32 hex digits).")
