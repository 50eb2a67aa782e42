"""The notifications app's settings, each with its default.

Read through these functions (not at import time) so ``override_settings`` and the
pytest ``settings`` fixture take effect. The project's settings may define any of them.
"""

from datetime import timedelta
from pathlib import Path

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    """Provider calls per notification before a transient failure becomes ``failed``."""
    return _get("NOTIFICATIONS_MAX_ATTEMPTS", 5)


def retry_base_seconds() -> float:
    """First retry delay; doubles with each attempt (full jitter)."""
    return _get("NOTIFICATIONS_RETRY_BASE_SECONDS", 5.0)


def retry_max_seconds() -> float:
    """Largest retry delay (also the cap of a provider's Retry-After)."""
    return _get("NOTIFICATIONS_RETRY_MAX_SECONDS", 300.0)


def max_countdown_seconds() -> float:
    """Largest Celery countdown we ever use: far below the Redis broker's visibility timeout.

    A later retry is re-queued in steps; the database row (``next_attempt_at``) is the schedule.
    """
    return _get("NOTIFICATIONS_MAX_COUNTDOWN_SECONDS", 300.0)


def batch_size() -> int:
    """Notifications per ``notifications.deliver_batch`` task."""
    return _get("NOTIFICATIONS_BATCH_SIZE", 200)


def batch_threshold() -> int:
    """From this many notifications queued at once, delivery goes in batches; below, one task each."""
    return _get("NOTIFICATIONS_BATCH_THRESHOLD", 50)


def batch_in_flight() -> int:
    """Provider calls a batch has open at once, and so the most notifications it holds claimed.

    A batch claims more only as earlier ones are recorded, so a killed worker leaves at most
    this many rows in ``sending`` per batch — every one of them a call that may have gone out.
    """
    return max(1, _get("NOTIFICATIONS_BATCH_IN_FLIGHT", 50))


def batch_record_group() -> int:
    """Finished sends recorded together (one statement), at the latest after ``batch_record_delay``."""
    return max(1, _get("NOTIFICATIONS_BATCH_RECORD_GROUP", 25))


def batch_record_delay() -> float:
    """Longest a finished send waits in memory before its outcome is written (seconds)."""
    return _get("NOTIFICATIONS_BATCH_RECORD_DELAY_SECONDS", 0.02)


def database_retry_seconds() -> float:
    """How long delivery keeps retrying the database (outcomes held in memory) during an outage.

    Below the task's soft time limit; past it the rows stay ``sending`` and the sweeper settles
    them once their lease lapses.
    """
    return _get("NOTIFICATIONS_DATABASE_RETRY_SECONDS", 90.0)


def claim_lease() -> timedelta:
    """How long a claim stays a live worker's without news from it.

    The worker holding claims renews their lease in the cache every third of this; the sweeper
    takes a ``sending`` row only once it is older than this and its lease has lapsed.
    """
    return timedelta(seconds=_get("NOTIFICATIONS_CLAIM_LEASE_SECONDS", 20))


def rate_limit_enabled() -> bool:
    return _get("NOTIFICATIONS_RATE_LIMIT_ENABLED", True)


def default_rates() -> dict[str, float]:
    """Messages per second per destination when the channel config sets no ``rate_per_second``."""
    # Teams: 2/s keeps under both of its connector thresholds (4 in 1 s, 60 in 30 s); Google Chat:
    # 60 writes per minute per space, webhooks included (notifications/README.md, "Teams and Google Chat").
    return {
        "slack": 1.0,
        "email": 10.0,
        "sms": 1.0,
        "whatsapp": 1.0,
        "teams": 2.0,
        "gchat": 1.0,
        **_get("NOTIFICATIONS_DEFAULT_RATES", {}),
    }


def rate_max_wait_seconds() -> float:
    """A rate-limit slot is reserved at most this far ahead; beyond, the message simply waits."""
    return _get("NOTIFICATIONS_RATE_MAX_WAIT_SECONDS", 60.0)


def rate_limiter_retry_seconds() -> float:
    """How long a send waits when the rate limiter cannot answer (it is retried then, never sent unlimited)."""
    return _get("NOTIFICATIONS_RATE_LIMITER_RETRY_SECONDS", 15.0)


def console_fallback() -> bool:
    """Use the console/outbox provider for channels without an active config (embedded default)."""
    return _get("NOTIFICATIONS_CONSOLE_FALLBACK", settings.EMBEDDED)


def outbox_dir() -> Path:
    return Path(_get("NOTIFICATIONS_OUTBOX_DIR", Path(settings.BASE_DIR) / "var" / "outbox"))


def sweep_pending_grace() -> timedelta:
    """A pending notification this far past its ``next_attempt_at`` was lost by the broker."""
    return timedelta(seconds=_get("NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS", 30))


def sending_timeout() -> timedelta:
    """A notification ``sending`` for longer than this lost its worker (past the task's hard time limit).

    The sweeper's rule when it cannot read the claim leases (the cache is down).
    """
    hard_limit = _get("CELERY_TASK_TIME_LIMIT", 180) or 180
    return timedelta(seconds=_get("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", hard_limit + 30))


def sweep_limit() -> int:
    return _get("NOTIFICATIONS_SWEEP_LIMIT", 2_000)


def slack_timeout() -> float:
    return _get("SLACK_TIMEOUT_SECONDS", 10)


def chat_webhook_timeout() -> float:
    """Seconds a Teams or Google Chat webhook post may take before its outcome is unknown."""
    return _get("CHAT_WEBHOOK_TIMEOUT_SECONDS", 10)


def twilio_timeout() -> float:
    return _get("TWILIO_TIMEOUT_SECONDS", 10)


def max_body_chars(channel: str) -> int:
    """Longest text a channel takes (longer rendered text is cut, with an ellipsis)."""
    # Teams takes about 28 KB per message, Google Chat 4,096 characters of text (32,000 bytes in all).
    limits = {"slack": 39_000, "email": 100_000, "sms": 1_600, "whatsapp": 1_600, "teams": 20_000, "gchat": 4_000}
    return _get("NOTIFICATIONS_MAX_BODY_CHARS", {}).get(channel, limits.get(channel, 10_000))


def template_render_seconds() -> float:
    """Wall-time budget of one template render (message templates are written by workspace admins)."""
    return _get("NOTIFICATIONS_TEMPLATE_RENDER_SECONDS", 0.5)


def public_base_url() -> str:
    """The origin Twilio (and other callers from outside) use to reach this service, e.g.
    ``https://bb.example.com`` — ``PUBLIC_BASE_URL``. Empty: the request's own absolute URL
    (``build_absolute_uri``, which honours ``SECURE_PROXY_SSL_HEADER`` and ``USE_X_FORWARDED_HOST``).

    Twilio signs the exact URL it called, so behind a proxy that rewrites the scheme, host or
    port this must be set, or every callback fails its signature check (403).
    """
    return (_get("PUBLIC_BASE_URL", "") or "").rstrip("/")


def twilio_status_callback_url(channel_id=None) -> str:
    """Where Twilio posts delivery receipts of the messages we send (``StatusCallback``).

    ``TWILIO_STATUS_CALLBACK_URL`` if set, else ``PUBLIC_BASE_URL`` + the channel's own status
    hook (the shared one without a channel); empty (no ``StatusCallback`` sent, e.g. a
    messaging service configured with its own) when neither is.
    """
    explicit = _get("TWILIO_STATUS_CALLBACK_URL", "")
    if explicit:
        return explicit
    base = public_base_url()
    if not base:
        return ""
    from django.urls import reverse

    if channel_id is None:
        return base + reverse("twilio-status-hook")
    return base + reverse("twilio-channel-status-hook", kwargs={"channel_id": channel_id})


def twilio_inbound_webhook_url(channel_id) -> str:
    """The incoming-message webhook to set on the channel's number or messaging service ("" without
    ``PUBLIC_BASE_URL``: then it is the path alone, on whatever origin Twilio reaches us at)."""
    from django.urls import reverse

    return public_base_url() + reverse("twilio-channel-inbound-hook", kwargs={"channel_id": channel_id})


def whatsapp_session_window() -> timedelta:
    """How long after a person's last WhatsApp message we still send free-form text.

    WhatsApp's window is 24 hours; the default keeps a 5-minute margin for queueing and
    clock differences, so a message is never refused by Twilio (63016) for being seconds late.
    """
    return timedelta(seconds=_get("WHATSAPP_SESSION_WINDOW_SECONDS", 24 * 3600 - 300))


def twilio_hook_throttle_rate() -> str:
    """Requests per client address to the Twilio hooks (DRF rate syntax).

    Twilio posts one status callback per message state change from a handful of addresses,
    so this is far above the anonymous API rate.
    """
    return _get("TWILIO_HOOK_THROTTLE_RATE", "6000/min")


def delivery_sql() -> bool:
    """Claim and record deliveries with one PostgreSQL statement each (data-modifying CTEs).

    Off: the portable ORM queries that SQLite always uses (a few more round trips per message).
    Meant for tests and for ruling the statements out when diagnosing, not for tuning.
    """
    return _get("NOTIFICATIONS_DELIVERY_SQL", True)
