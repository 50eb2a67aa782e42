"""Validation of channel configs, shared by the model, the API and the providers (at send time)."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext

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
    "teams": {"webhook_url"},
    "gchat": {"webhook_url"},
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
        add("kind", f"Choose one of {', '.join(KIND_FIELDS)}.")
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
    elif kind in CHAT_WEBHOOK_CHECKS:
        error = CHAT_WEBHOOK_CHECKS[kind](config.webhook_url or "")
        if error:
            add("webhook_url", error)
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


# --- Microsoft Teams and Google Chat webhooks ---------------------------------------------------
#
# Unlike Slack's prefix list, these hosts are fixed here: a URL must be https on the default
# port, name a host (never an IP literal) under one of these domains, and have that kind of
# URL's path. ``TEAMS_WEBHOOK_EXTRA_URL_PREFIXES`` / ``GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES``
# add exact prefixes for a local fake (tests, benchmarks) and are empty in production.

# (host suffix, path prefix, needs a ``sig`` parameter): the URLs Teams hands out.
TEAMS_WEBHOOK_KINDS = (
    # An incoming webhook (Office 365 connector): https://<tenant>.webhook.office.com/webhookb2/…
    (".webhook.office.com", "/webhookb2/", False),
    # A Workflows (Power Automate) webhook served by Logic Apps: https://prod-NN.<region>.logic.azure.com/workflows/…
    (".logic.azure.com", "/workflows/", True),
    # A Workflows webhook on the Power Platform endpoint: https://<env>.environment.api.powerplatform.com/powerautomate/…
    (".environment.api.powerplatform.com", "/powerautomate/", True),
)
GOOGLE_CHAT_HOST = "chat.googleapis.com"
GOOGLE_CHAT_PATH_RE = re.compile(r"/v1/spaces/(?P<space>[A-Za-z0-9_-]{1,64})/messages")
# Parameters a Google Chat webhook URL may carry: its credentials, and the documented threading options.
GOOGLE_CHAT_REQUIRED_PARAMS = ("key", "token")
GOOGLE_CHAT_OPTIONAL_PARAMS = ("threadKey", "messageReplyOption")
_HOST_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
CHAT_WEBHOOK_URL_MAX = 500


def _extra_prefix_allows(url: str, setting: str) -> bool:
    prefixes = getattr(settings, setting, None) or ()
    if not prefixes:
        return False
    return _webhook_url_error(url, prefixes if isinstance(prefixes, str) else tuple(prefixes)) is None


def _https_parts(url: str):
    """``(parts, None)`` for a well-formed https URL on the default port naming a host, else ``(None, why)``."""
    if not isinstance(url, str) or not url:
        return None, gettext("Enter the webhook URL.")
    if len(url) > CHAT_WEBHOOK_URL_MAX:
        return None, gettext("The webhook URL is too long (at most %(max)d characters).") % {
            "max": CHAT_WEBHOOK_URL_MAX
        }
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in url):
        return None, gettext("The webhook URL may not contain spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None, gettext("Enter a valid URL.")
    if parts.scheme.lower() != "https":
        return None, gettext("The webhook URL must start with https://.")
    if "@" in parts.netloc:
        return None, gettext("The webhook URL may not contain a user name or password.")
    host = parts.hostname or ""
    if not host:
        return None, gettext("Enter a valid URL.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return None, gettext("The webhook URL must name a host, not an IP address.")
    if port is not None and port != 443:
        return None, gettext("The webhook URL may not name a port other than 443.")
    if parts.fragment or url.endswith("#"):
        return None, gettext("The webhook URL may not have a #fragment.")
    if not all(_HOST_LABEL_RE.fullmatch(label) for label in host.split(".")):
        return None, gettext("The webhook URL's host is not a valid name.")
    return parts, None


def _host_under(host: str, suffix: str) -> bool:
    """``host`` is one or more labels followed by ``suffix`` (``.webhook.office.com``)."""
    return host.endswith(suffix) and len(host) > len(suffix)


def teams_webhook_url_error(url: str) -> str | None:
    """Why ``url`` is not a Microsoft Teams webhook we may post to, or ``None``.

    Accepted: an incoming webhook (``https://<tenant>.webhook.office.com/webhookb2/…``) and a
    Workflows webhook (``https://….logic.azure.com/workflows/…`` or
    ``https://….environment.api.powerplatform.com/powerautomate/…``, with its ``sig``).
    Checked on save and again before every send.
    """
    if isinstance(url, str) and url and _extra_prefix_allows(url, "TEAMS_WEBHOOK_EXTRA_URL_PREFIXES"):
        return None
    parts, error = _https_parts(url)
    if error:
        return error
    host = parts.hostname or ""
    for suffix, path_prefix, needs_sig in TEAMS_WEBHOOK_KINDS:
        if not _host_under(host, suffix):
            continue
        if not parts.path.startswith(path_prefix):
            return gettext("A %(host)s webhook URL's path starts with %(path)s; copy the whole URL from Teams.") % {
                "host": suffix.lstrip("."),
                "path": path_prefix,
            }
        if needs_sig and not any(name == "sig" and value for name, value in parse_qsl(parts.query)):
            return gettext("The Workflows URL lacks its sig parameter; copy the whole URL from Teams.")
        return None
    return gettext(
        "This is not a Microsoft Teams webhook: its host must end in webhook.office.com, "
        "logic.azure.com or environment.api.powerplatform.com."
    )


def google_chat_webhook_url_error(url: str) -> str | None:
    """Why ``url`` is not a Google Chat incoming webhook we may post to, or ``None``.

    Accepted: ``https://chat.googleapis.com/v1/spaces/<space>/messages?key=…&token=…`` (plus
    Chat's optional ``threadKey`` and ``messageReplyOption``). Checked on save and before every send.
    """
    if isinstance(url, str) and url and _extra_prefix_allows(url, "GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES"):
        return None
    parts, error = _https_parts(url)
    if error:
        return error
    if parts.hostname != GOOGLE_CHAT_HOST:
        return gettext("This is not a Google Chat webhook: its host must be chat.googleapis.com.")
    if not GOOGLE_CHAT_PATH_RE.fullmatch(parts.path):
        return gettext("A Google Chat webhook's path is /v1/spaces/<space>/messages; copy the whole URL from Chat.")
    try:
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        params = None
    names = [name for name, _ in params or ()]
    unknown = sorted(set(names) - {*GOOGLE_CHAT_REQUIRED_PARAMS, *GOOGLE_CHAT_OPTIONAL_PARAMS})
    if params is None or unknown or len(set(names)) != len(names):
        return gettext(
            "The Google Chat webhook URL may carry only key, token, threadKey and messageReplyOption, once each."
        )
    values = dict(params)
    if not all(values.get(name) for name in GOOGLE_CHAT_REQUIRED_PARAMS):
        return gettext("The Google Chat webhook URL needs its key and token parameters; copy the whole URL from Chat.")
    return None


def google_chat_space(url: str) -> str | None:
    """The space a Google Chat webhook posts to (``AAAA…``), or None for another URL."""
    try:
        match = GOOGLE_CHAT_PATH_RE.fullmatch(urlsplit(url).path)
    except ValueError:
        return None
    return match["space"] if match else None


CHAT_WEBHOOK_CHECKS = {"teams": teams_webhook_url_error, "gchat": google_chat_webhook_url_error}


def validate_image_url(value: str) -> None:
    """A variant's picture: an absolute ``https://`` URL with a host, no credentials, no whitespace.

    Slack and mail clients fetch it themselves, so anything but https (``http:``, ``javascript:``,
    ``data:``) is refused: no mixed content, no script, no inline payload in a message.
    """
    if not value:
        return
    message = "Give an https:// address of a picture (http, javascript: and data: addresses are refused)."
    if len(value) > 500 or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValidationError(message, code="image_url")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(message, code="image_url") from exc
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username or parts.password or port == 0:
        raise ValidationError(message, code="image_url")
    try:
        URLValidator(schemes=["https"])(value)
    except ValidationError as exc:
        raise ValidationError(message, code="image_url") from exc
