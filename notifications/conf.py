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
    return _get("NOTIFICATIONS_BATCH_SIZE", 50)


def batch_threshold() -> int:
    """From this many notifications queued at once, delivery goes in batches; below, one task each."""
    return _get("NOTIFICATIONS_BATCH_THRESHOLD", 50)


def batch_concurrency() -> int:
    """Threads per worker process for providers without an async client in a batch."""
    return _get("NOTIFICATIONS_BATCH_THREADS", 16)


def rate_limit_enabled() -> bool:
    return _get("NOTIFICATIONS_RATE_LIMIT_ENABLED", True)


def default_rates() -> dict[str, float]:
    """Messages per second per destination when the channel config sets no ``rate_per_second``."""
    return {"slack": 1.0, "email": 10.0, "sms": 1.0, "whatsapp": 1.0, **_get("NOTIFICATIONS_DEFAULT_RATES", {})}


def rate_max_wait_seconds() -> float:
    """A rate-limit slot is reserved at most this far ahead; beyond, the message simply waits."""
    return _get("NOTIFICATIONS_RATE_MAX_WAIT_SECONDS", 60.0)


def console_fallback() -> bool:
    """Use the console/outbox provider for channels without an active config (embedded default)."""
    return _get("NOTIFICATIONS_CONSOLE_FALLBACK", settings.EMBEDDED)


def outbox_dir() -> Path:
    return Path(_get("NOTIFICATIONS_OUTBOX_DIR", Path(settings.BASE_DIR) / "var" / "outbox"))


def sweep_pending_grace() -> timedelta:
    """A pending notification this far past its ``next_attempt_at`` was lost by the broker."""
    return timedelta(seconds=_get("NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS", 60))


def sending_timeout() -> timedelta:
    """A notification ``sending`` for longer than this lost its worker (past the task's hard time limit)."""
    hard_limit = _get("CELERY_TASK_TIME_LIMIT", 180) or 180
    return timedelta(seconds=_get("NOTIFICATIONS_SENDING_TIMEOUT_SECONDS", hard_limit + 30))


def sweep_limit() -> int:
    return _get("NOTIFICATIONS_SWEEP_LIMIT", 2_000)


def slack_timeout() -> float:
    return _get("SLACK_TIMEOUT_SECONDS", 10)


def twilio_timeout() -> float:
    return _get("TWILIO_TIMEOUT_SECONDS", 10)


def max_body_chars(channel: str) -> int:
    """Longest text a channel takes (longer rendered text is cut, with an ellipsis)."""
    limits = {"slack": 39_000, "email": 100_000, "sms": 1_600, "whatsapp": 1_600}
    return _get("NOTIFICATIONS_MAX_BODY_CHARS", {}).get(channel, limits.get(channel, 10_000))
