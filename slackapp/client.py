"""The Slack Web API client we use: slack-sdk's ``WebClient`` pointed at ``SLACK_API_BASE_URL``.

429 answers are retried by slack-sdk's ``RateLimitErrorRetryHandler``, which sleeps for the
``Retry-After`` Slack sends (tier limits); other errors come back as ``SlackApiError``.
"""

from __future__ import annotations

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler


def web_client(token: str | None = None) -> WebClient:
    return WebClient(
        token=token,
        base_url=settings.SLACK_API_BASE_URL,
        timeout=settings.SLACK_TIMEOUT_SECONDS,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=settings.SLACK_RATE_LIMIT_RETRIES)],
    )
