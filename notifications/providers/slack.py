"""Slack through slack-sdk: an incoming webhook (``WebhookClient``) or a bot (``WebClient``).

slack-sdk's retry handlers are switched off (``retry_handlers=[]``): it returns a 429 or a
500 without raising, and would retry a dropped connection blindly. The retry policy and
the table of permanent errors live here and in ``notifications/delivery/``.

Webhook URLs come from users: the URL-prefix allow-list is checked again right before
each send, and redirects are never followed (a 3xx answer is a permanent failure).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import http.client
import json
import ssl
import urllib.request
from urllib.error import URLError
from urllib.request import Request

import aiohttp
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.webhook import WebhookClient, WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from notifications.providers.base import (
    Message,
    OutcomeUnknown,
    PermanentError,
    SendResult,
    TransientError,
    parse_retry_after,
    truncate,
)
from notifications.validators import webhook_url_error

# Incoming webhooks answer with a status code and a short text body.
PERMANENT_WEBHOOK_STATUSES = frozenset({400, 401, 403, 404, 410})
# chat.postMessage ``ok: false`` errors that no retry will fix.
PERMANENT_API_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "restricted_action",
        "missing_scope",
        "team_access_not_granted",
        "ekm_access_denied",
        "invalid_arguments",
        "cannot_reply_to_message",
    }
)
TRANSIENT_API_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable"})


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process. Without it, urllib builds a new default context
    (loading the CA bundle) for every HTTPS post: tens of milliseconds of CPU per message."""
    return ssl.create_default_context()


class _NoRedirectHandler(urllib.request.HTTPRedirectHandler):
    """Turns every redirect into an ``HTTPError`` carrying the 3xx status (no SSRF via Location)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@functools.lru_cache(maxsize=16)
def _opener(ssl_context: ssl.SSLContext | None, proxy: str | None) -> urllib.request.OpenerDirector:
    """One urllib opener per TLS context and proxy, kept for the process.

    Building one costs more CPU than a post to a local webhook (its default proxy handler scans
    the whole environment); an opener holds no per-request state, so it is safely shared.
    """
    handlers = [_NoRedirectHandler(), urllib.request.HTTPSHandler(context=ssl_context)]
    if proxy:
        handlers.insert(0, urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    return urllib.request.build_opener(*handlers)


class NoRedirectWebhookClient(WebhookClient):
    """slack-sdk's ``WebhookClient`` with an opener that never follows redirects."""

    def _perform_http_request_internal(self, url: str, req: Request):
        if not url.lower().startswith(("https://", "http://")):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        http_resp = _opener(self.ssl, self.proxy or None).open(req, timeout=self.timeout)
        charset = http_resp.headers.get_content_charset() or "utf-8"
        body = http_resp.read().decode(charset)
        return WebhookResponse(url=url, status_code=http_resp.status, body=body, headers=http_resp.headers)


class _NoRedirectSession:
    """Wraps an aiohttp session so slack-sdk's async client posts with ``allow_redirects=False``."""

    def __init__(self, session: aiohttp.ClientSession):
        self._session = session

    @property
    def closed(self) -> bool:
        return self._session.closed

    def request(self, method, url, **kwargs):
        return self._session.request(method, url, allow_redirects=False, **kwargs)


@functools.cache
def _async_webhook_client() -> AsyncWebhookClient:
    """slack-sdk's async webhook client without retries, for ``SlackWebhookProvider`` to copy
    with its own URL, timeout and session: building one reads the proxy variables and builds
    the user agent, a cost per message when a batch goes to many webhooks. A client holds only
    settings (its headers are copied into each request), so a shallow copy with those three
    replaced is what the constructor would give. It holds no session: a cached one would outlive
    its event loop."""
    return AsyncWebhookClient(url="", retry_handlers=[])


def classify_urllib_error(exc: BaseException, *, what: str) -> Exception:
    """Maps an exception from a urllib-based client to our three outcomes.

    urllib wraps failures while connecting or writing the request in ``URLError``: Slack
    never got a whole request, so trying again is safe. Anything raised while waiting for
    the answer (a timeout, a reset or closed connection) means Slack may have posted it.
    """
    if isinstance(exc, URLError) and not isinstance(exc, urllib.error.HTTPError):
        return TransientError(f"{what}: could not connect ({exc.reason})")
    if isinstance(exc, TimeoutError):
        return OutcomeUnknown(f"{what}: timed out waiting for Slack's answer")
    if isinstance(exc, (http.client.HTTPException, ConnectionError, OSError)):
        return OutcomeUnknown(f"{what}: connection lost after sending ({type(exc).__name__})")
    return OutcomeUnknown(f"{what}: {type(exc).__name__}: {exc}")


def classify_webhook_response(status: int, body: str, headers) -> SendResult:
    """Raises for anything but a 2xx webhook answer; returns the result otherwise."""
    body = (body or "").strip()
    if 200 <= status < 300:
        return SendResult(status_code=status, detail=truncate(body or "ok", 200))
    if status == 429:
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        raise TransientError("rate_limited", status_code=status, retry_after=retry_after)
    if 300 <= status < 400:
        raise PermanentError(
            f"redirect_refused: the webhook answered HTTP {status}; redirects are not followed", status_code=status
        )
    if status >= 500:
        raise TransientError(f"HTTP {status}: {truncate(body, 200) or 'server error'}", status_code=status)
    reason = truncate(body, 200) or f"http_{status}"
    raise PermanentError(reason, status_code=status)


def _header(headers, name: str):
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value = getter(name)
    if value is None:
        value = getter(name.lower())
    if isinstance(value, list):
        value = value[0] if value else None
    return value


def _shows_image(blocks: list | None, url: str) -> bool:
    """Whether Block Kit ``blocks`` already show the picture at ``url`` (then no attachment repeats it)."""
    return any(isinstance(block, dict) and block.get("image_url") == url for block in blocks or ())


def _payload(message: Message, *, thread: bool = False) -> dict:
    """What Slack is sent: ``text`` always (with blocks it is the fallback shown in notifications
    and read by screen readers), the Block Kit ``blocks`` when the message has them, and — for
    the bot, ``thread`` — the parent's ``thread_ts``. Mentions (<@U…>) work in both; link
    unfurling would post previews nobody asked for."""
    payload: dict = {"text": message.body, "unfurl_links": False, "unfurl_media": False}
    if message.blocks:
        payload["blocks"] = message.blocks
    if thread and message.thread_ts:
        payload["thread_ts"] = message.thread_ts
    if message.image_url and not _shows_image(message.blocks, message.image_url):
        # The picture as an attachment keeps ``text`` (and its mentions) as it is: webhooks and
        # chat.postMessage both take it, beside blocks or without them.
        payload["attachments"] = [{"image_url": message.image_url, "fallback": message.image_alt or message.image_url}]
    return payload


class SlackWebhookProvider:
    """An incoming webhook: one fixed channel, ~1 message per second."""

    name = "slack_webhook"

    def __init__(self, *, webhook_url: str, timeout: float, rate_per_second: float | None):
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.rate_per_second = rate_per_second
        self.rate_key = "slack:webhook:" + hashlib.sha256(webhook_url.encode()).hexdigest()[:32]
        self._async_client: tuple[aiohttp.ClientSession, AsyncWebhookClient] | None = None

    def _check_url(self) -> None:
        error = webhook_url_error(self.webhook_url)
        if error:
            raise PermanentError(f"webhook_url_not_allowed: {error}")

    def send(self, message: Message) -> SendResult:
        self._check_url()
        client = NoRedirectWebhookClient(
            url=self.webhook_url, timeout=int(self.timeout) or 1, retry_handlers=[], ssl=shared_ssl_context()
        )
        try:
            response = client.send_dict(_payload(message))
        except Exception as exc:
            raise classify_urllib_error(exc, what="slack webhook") from exc
        return classify_webhook_response(response.status_code, response.body, response.headers)

    def _client_for(self, session: aiohttp.ClientSession) -> AsyncWebhookClient:
        """One async client per provider and session, shared by a batch's messages to this webhook.
        It keeps no state between requests, so concurrent sends may share it."""
        if self._async_client is None or self._async_client[0] is not session:
            client = copy.copy(_async_webhook_client())
            client.url = self.webhook_url
            client.timeout = int(self.timeout) or 1
            client.session = _NoRedirectSession(session)  # type: ignore[assignment]
            self._async_client = (session, client)
        return self._async_client[1]

    async def asend(self, message: Message, *, session: aiohttp.ClientSession) -> SendResult:
        """The same send over a shared aiohttp session (batches: one keep-alive pool per worker)."""
        self._check_url()
        try:
            response = await self._client_for(session).send_dict(_payload(message))
        except aiohttp.ClientConnectorError as exc:
            raise TransientError(f"slack webhook: could not connect ({exc})") from exc
        except TimeoutError as exc:
            raise OutcomeUnknown("slack webhook: timed out waiting for Slack's answer") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise OutcomeUnknown(f"slack webhook: connection lost after sending ({type(exc).__name__})") from exc
        return classify_webhook_response(response.status_code, response.body, response.headers)


class SlackBotProvider:
    """A bot token: ``chat.postMessage`` to a channel id (or a user id, for a direct message)."""

    name = "slack_bot"

    def __init__(self, *, bot_token: str, base_url: str, timeout: float, rate_per_second: float | None, channel: str):
        self.bot_token = bot_token
        self.base_url = base_url
        self.timeout = timeout
        self.rate_per_second = rate_per_second
        token_hash = hashlib.sha256(bot_token.encode()).hexdigest()[:16]
        self.rate_key = f"slack:bot:{token_hash}:{channel}"
        self.channel = channel

    def send(self, message: Message) -> SendResult:
        client = WebClient(
            token=self.bot_token,
            base_url=self.base_url,
            timeout=int(self.timeout) or 1,
            retry_handlers=[],
            ssl=shared_ssl_context(),
        )
        channel = message.recipient if message.recipient and message.recipient != "webhook" else self.channel
        try:
            response = client.chat_postMessage(channel=channel, **_payload(message, thread=True))
        except SlackApiError as exc:
            raise _classify_api_error(exc) from exc
        except Exception as exc:
            raise classify_urllib_error(exc, what="slack chat.postMessage") from exc
        return SendResult(
            provider_message_id=str(response.get("ts") or ""),
            status_code=response.status_code,
            detail=f"ok (channel {response.get('channel') or channel})",
        )


def _classify_api_error(exc: SlackApiError) -> Exception:
    response = exc.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if status == 429 or error == "ratelimited":
        retry_after = parse_retry_after(_header(getattr(response, "headers", None), "Retry-After"))
        return TransientError("ratelimited", status_code=status, retry_after=retry_after)
    if error in PERMANENT_API_ERRORS:
        return PermanentError(error, status_code=status)
    if error in TRANSIENT_API_ERRORS or (status is not None and status >= 500):
        return TransientError(error or f"HTTP {status}", status_code=status)
    if error:
        return PermanentError(error, status_code=status)
    body = data if isinstance(data, str) else json.dumps(data)[:200] if data else ""
    return PermanentError(truncate(f"HTTP {status}: {body}", 200), status_code=status)
