"""Microsoft Teams and Google Chat incoming webhooks: one JSON post per message.

Both are a plain HTTPS POST of a JSON body to a URL the workspace pastes in, so no client library
is used (Microsoft's and Google's SDKs are for bots and OAuth apps, not webhooks). The rules are
Slack's webhook's: the URL allow-list is checked again right before each send, redirects are
never followed (a 3xx is a permanent ``redirect_refused``), one TLS context per process, no
retries inside the provider — the answer is mapped to our three outcomes and delivery decides.

**Text from data can never become markup.** The rendered message is plain text (the digest's
names are plain names: these channels have no mentions from us) and is escaped here, whole:

- Teams: an Adaptive Card (``TextBlock`` per line) — Markdown punctuation is backslash-escaped
  (CommonMark), so ``**x**``, ``[x](url)``, list markers and ``{{DATE(…)}}`` show as typed; no
  ``msteams.entities`` are sent, so ``<at>…</at>`` is never a mention.
- Google Chat: a ``cardsV2`` text paragraph, whose text is a small HTML subset: HTML-escaped,
  so ``<users/all>`` (a mention of everyone in text messages) and ``*bold*`` show as typed. The
  notification preview (``fallbackText``) is the first line without markup characters.
"""

from __future__ import annotations

import functools
import hashlib
import html
import http.client
import json
import re
import urllib.request
from collections.abc import Callable
from urllib.error import HTTPError, URLError

from notifications.providers.base import (
    Message,
    OutcomeUnknown,
    PermanentError,
    SendResult,
    TransientError,
    parse_retry_after,
    truncate,
)
from notifications.providers.slack import shared_ssl_context
from notifications.validators import google_chat_space, google_chat_webhook_url_error, teams_webhook_url_error

# Our word for a refusal, by HTTP status (the service's own detail follows it in ``last_error``).
PERMANENT_STATUS_REASONS = {
    400: "invalid_payload",
    401: "webhook_forbidden",
    403: "webhook_forbidden",
    404: "webhook_not_found",
    410: "webhook_not_found",
    413: "message_too_long",
}
# Legacy Teams connectors answer 200 with this text when Teams itself refused the message.
_TEAMS_EMBEDDED_ERROR_RE = re.compile(r"returned HTTP error (\d{3})")

_TEAMS_MARKDOWN_RE = re.compile(r"([\\`*_~\[\]()<>#|!{}])")
_TEAMS_LINE_MARKER_RE = re.compile(r"^(\s*)(?:([-+=])|(\d+)\.)", re.MULTILINE)
_CHAT_MARKUP_RE = re.compile(r"[<>*_~`]")
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
# The most of an answer we read: enough for any error these services send.
ANSWER_MAX_BYTES = 65_536


def _escape_line_marker(match: re.Match) -> str:
    if match[2]:
        return f"{match[1]}\\{match[2]}"
    return f"{match[1]}{match[3]}\\."


def teams_escape(text: str) -> str:
    """``text`` for an Adaptive Card ``TextBlock``: every Markdown character shown as typed.

    A line starting with ``-``, ``+``, ``=`` or ``1.`` would become a list item or a heading
    underline, so those markers are escaped too.
    """
    escaped = _TEAMS_MARKDOWN_RE.sub(r"\\\1", text)
    return _TEAMS_LINE_MARKER_RE.sub(_escape_line_marker, escaped)


def teams_payload(message: Message) -> dict:
    """A Workflows webhook's message: one Adaptive Card attachment (incoming webhooks take it too)."""
    lines = message.body.splitlines() or [""]
    blocks: list[dict] = []
    gap = False
    for line in lines:
        if not line.strip():
            gap = bool(blocks)
            continue
        block = {"type": "TextBlock", "text": teams_escape(line), "wrap": True}
        if gap:
            block["spacing"] = "Medium"
        blocks.append(block)
        gap = False
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": ADAPTIVE_CARD,
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "msteams": {"width": "Full"},
                    "body": blocks,
                },
            }
        ],
    }


def google_chat_payload(message: Message) -> dict:
    """A Google Chat card message: the text HTML-escaped in one paragraph, a plain preview."""
    text = html.escape(message.body, quote=False).replace("\n", "<br>")
    first_line = next((line for line in message.body.splitlines() if line.strip()), "")
    return {
        "fallbackText": truncate(_CHAT_MARKUP_RE.sub("", first_line).strip(), 200),
        "cardsV2": [
            {
                "cardId": "message",
                "card": {"sections": [{"widgets": [{"textParagraph": {"text": text}}]}]},
            }
        ],
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """One opener per process (building one reads the proxy variables): no redirects, the shared TLS context."""
    return urllib.request.build_opener(
        _NoRedirect(),
        urllib.request.HTTPSHandler(context=shared_ssl_context()),
    )


def _post_json(url: str, payload: dict, *, timeout: float, what: str) -> tuple[int, str, object]:
    """``(status, body, headers)`` of a JSON POST; network failures raised as our outcomes."""
    if not url.lower().startswith(("https://", "http://")):  # the allow-lists admit http only for local fakes
        raise PermanentError(f"webhook_url_not_allowed: {what} URLs are https")
    request = urllib.request.Request(  # noqa: S310 (scheme checked above, host by the allow-list)
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "BirthdayBuddy"},
        method="POST",
    )
    try:
        with _opener().open(request, timeout=timeout) as response:
            return response.status, response.read(ANSWER_MAX_BYTES).decode("utf-8", "replace"), response.headers
    except HTTPError as exc:  # any non-2xx answer, redirects included
        with exc:
            body = exc.read(ANSWER_MAX_BYTES).decode("utf-8", "replace") if exc.fp else ""
        return exc.code, body, exc.headers
    except URLError as exc:
        # urllib raises URLError while connecting or writing (as for Slack's webhook): the service
        # never got a whole request, so trying again is safe.
        raise TransientError(f"{what}: could not connect ({exc.reason})") from exc
    except TimeoutError as exc:
        raise OutcomeUnknown(f"{what}: timed out waiting for the answer") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise OutcomeUnknown(f"{what}: connection lost after sending ({type(exc).__name__})") from exc


def _detail(body: str) -> str:
    """The service's own words: ``error.status``/``error.code`` and ``message`` of a JSON error, else the text."""
    text = (body or "").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return truncate(text, 200)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        code = error.get("status") or error.get("code") or ""
        words = error.get("message") or ""
        return truncate(f"{code}: {words}".strip(": "), 200)
    return truncate(text, 200)


def classify_answer(status: int, body: str, headers) -> SendResult:
    """Raises for anything but a 2xx answer: 429 and 5xx (and 408) transient, other 4xx permanent."""
    if 200 <= status < 300:
        return SendResult(status_code=status, detail=truncate((body or "").strip() or "ok", 200))
    detail = _detail(body)
    if status == 429:
        retry_after = parse_retry_after(headers.get("Retry-After") if headers is not None else None)
        raise TransientError("rate_limited", status_code=status, retry_after=retry_after)
    if 300 <= status < 400:
        raise PermanentError(
            f"redirect_refused: the webhook answered HTTP {status}; redirects are not followed", status_code=status
        )
    if status >= 500 or status == 408:
        raise TransientError(f"HTTP {status}: {detail or 'server error'}", status_code=status)
    word = PERMANENT_STATUS_REASONS.get(status, f"http_{status}")
    raise PermanentError(f"{word}: {detail}" if detail else word, status_code=status)


class _ChatWebhookProvider:
    name: str = ""
    what = ""
    url_error: Callable[[str], str | None]
    rate_key: str | None
    rate_per_second: float | None

    def __init__(self, *, webhook_url: str, timeout: float, rate_per_second: float | None):
        self.webhook_url = webhook_url
        self.timeout = timeout
        self.rate_per_second = rate_per_second
        self.rate_key = self._rate_key(webhook_url)

    @staticmethod
    def _rate_key(webhook_url: str) -> str:
        return "webhook:" + hashlib.sha256(webhook_url.encode()).hexdigest()[:32]

    def payload(self, message: Message) -> dict:
        raise NotImplementedError

    def _check_url(self) -> None:
        error = type(self).url_error(self.webhook_url)
        if error:
            raise PermanentError(f"webhook_url_not_allowed: {error}")

    def send(self, message: Message) -> SendResult:
        self._check_url()
        status, body, headers = _post_json(
            self.webhook_url, self.payload(message), timeout=self.timeout or 1, what=self.what
        )
        return self.classify(status, body, headers)

    def classify(self, status: int, body: str, headers) -> SendResult:
        return classify_answer(status, body, headers)


class TeamsWebhookProvider(_ChatWebhookProvider):
    """A Teams channel's incoming webhook or Workflows webhook; about 2 posts a second per webhook."""

    name = "teams_webhook"
    what = "teams webhook"
    url_error = staticmethod(teams_webhook_url_error)

    @staticmethod
    def _rate_key(webhook_url: str) -> str:
        return "teams:webhook:" + hashlib.sha256(webhook_url.encode()).hexdigest()[:32]

    def payload(self, message: Message) -> dict:
        return teams_payload(message)

    def classify(self, status: int, body: str, headers) -> SendResult:
        embedded = _TEAMS_EMBEDDED_ERROR_RE.search(body or "") if 200 <= status < 300 else None
        if embedded:
            # The connector took the request but Teams refused it: the embedded status decides.
            return classify_answer(int(embedded[1]), body, headers)
        return classify_answer(status, body, headers)


class GoogleChatWebhookProvider(_ChatWebhookProvider):
    """A Google Chat space's incoming webhook; one message a second per space (shared by its webhooks)."""

    name = "google_chat_webhook"
    what = "google chat webhook"
    url_error = staticmethod(google_chat_webhook_url_error)

    @staticmethod
    def _rate_key(webhook_url: str) -> str:
        # Chat's quota is per space: two webhooks into one space share one bucket.
        space = google_chat_space(webhook_url)
        return (
            f"gchat:space:{space}"
            if space
            else "gchat:webhook:" + hashlib.sha256(webhook_url.encode()).hexdigest()[:32]
        )

    def payload(self, message: Message) -> dict:
        return google_chat_payload(message)

    def classify(self, status: int, body: str, headers) -> SendResult:
        result = classify_answer(status, body, headers)
        try:
            name = json.loads(body or "{}").get("name") or ""
        except (ValueError, AttributeError):
            name = ""
        return SendResult(
            provider_message_id=str(name), status_code=result.status_code, detail="ok" if name else result.detail
        )
