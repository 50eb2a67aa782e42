"""Per-destination send rate: ``birthdaybuddy.ratelimit``'s token buckets, one per destination.

``reserve(destination, …)`` answers as ``birthdaybuddy.ratelimit.reserve`` does; the buckets
live under ``notifications:rate:<destination>`` (the cache tools' ``ratelimit`` namespace).

A send never bypasses its limit: when the limiter cannot answer (Redis down, a script error),
the answer is "not now, ask again in ``NOTIFICATIONS_RATE_LIMITER_RETRY_SECONDS``" (a negative
wait, nothing reserved), so delivery puts the message back and retries it later.
"""

from __future__ import annotations

import logging

from birthdaybuddy import ratelimit
from notifications import conf

logger = logging.getLogger(__name__)

KEY_PREFIX = "notifications:rate:"


def reserve(destination: str, *, rate_per_second: float, max_wait: float, burst: int | None = None) -> float:
    """Seconds to wait before sending to ``destination`` (0: now; negative: ask again after that long)."""
    try:
        return ratelimit.reserve(
            f"{KEY_PREFIX}{destination}",
            rate_per_second=rate_per_second,
            max_wait=max_wait,
            burst=burst,
            fail_open=False,
        )
    except ratelimit.RateLimiterUnavailable as exc:
        delay = conf.rate_limiter_retry_seconds()
        logger.warning("send rate limiter unavailable (%s); the send waits %.0f s", exc, delay)
        return -delay
