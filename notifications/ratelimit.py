"""Per-destination send rate: ``birthdaybuddy.ratelimit``'s token buckets, one per destination.

``reserve(destination, …)`` answers as ``birthdaybuddy.ratelimit.reserve`` does; the buckets
live under ``notifications:rate:<destination>`` (the cache tools' ``ratelimit`` namespace).
"""

from __future__ import annotations

from birthdaybuddy import ratelimit

KEY_PREFIX = "notifications:rate:"


def reserve(destination: str, *, rate_per_second: float, max_wait: float, burst: int | None = None) -> float:
    """Seconds to wait before sending to ``destination`` (0: now)."""
    return ratelimit.reserve(
        f"{KEY_PREFIX}{destination}", rate_per_second=rate_per_second, max_wait=max_wait, burst=burst
    )
