"""Rate limits as token buckets (GCRA) in Redis, shared by every process.

``reserve(key, rate_per_second=…, max_wait=…)`` answers how long to wait before going ahead:

- ``0``: go now;
- ``> 0``: a slot ``wait`` seconds ahead is reserved for this caller: come back then and go
  without asking again (so a queue of messages for one destination is spread over
  consecutive slots instead of all retrying at once);
- ``< 0``: the bucket is booked further ahead than ``max_wait``: nothing reserved, wait
  ``-value`` seconds and ask again. ``max_wait=0`` is a plain yes/no with the wait.

A bucket holds ``burst`` requests (default: one second's worth) and refills at the rate; it
is one integer (the theoretical arrival time) under ``key`` in the project's cache, updated by
one Lua script call, atomic. Users: the notifications app's per-destination send rate
(``notifications.ratelimit``) and the API's per-user and per-client throttles
(``birthdaybuddy.api.throttling``).

On the embedded file cache, which has no atomic operations, each process keeps its own
buckets: limits then hold per process, not globally (documented in the README). If Redis is
unreachable (or the script fails) the caller chooses: ``fail_open=True`` (the API throttles)
lets requests through; ``fail_open=False`` (sends to a provider) raises
:class:`RateLimiterUnavailable`, so the caller waits and asks again instead of exceeding the limit.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

# KEYS[1] bucket; ARGV: interval_ms, burst, max_wait_ms. Returns wait in ms (see module doc).
GCRA_LUA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1])) or 0  -- missing or not a number: an empty bucket
if tat < now then tat = now end
local tolerance = interval * (burst - 1)
local wait = tat - tolerance - now
if wait <= 0 then
  redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now + 1000)
  return 0
end
if wait > max_wait then
  return -wait
end
redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now + 1000)
return wait
"""


def uses_redis() -> bool:
    return settings.CACHES["default"]["BACKEND"].startswith("django_redis")


class _LocalBuckets:
    """The same algorithm in process memory (embedded mode)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, key: str, interval: float, burst: int, max_wait: float) -> float:
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(key, now), now)
            wait = tat - interval * (burst - 1) - now
            if wait <= 0:
                self._tat[key] = tat + interval
                return 0.0
            if wait > max_wait:
                return -wait
            self._tat[key] = tat + interval
            return wait

    def clear(self) -> None:
        with self._lock:
            self._tat.clear()


_local = _LocalBuckets()
_script = None


def _redis_reserve(key: str, interval: float, burst: int, max_wait: float) -> float:
    global _script
    from django_redis import get_redis_connection

    connection = get_redis_connection("default")
    if _script is None or _script.registered_client is not connection:
        _script = connection.register_script(GCRA_LUA)
    redis_key = cache.make_key(key)
    wait_ms = _script(
        keys=[redis_key], args=[max(1, round(interval * 1000)), burst, round(max_wait * 1000)], client=connection
    )
    return int(wait_ms) / 1000.0


# Rates the bucket arithmetic handles (an interval of at most 10,000 s, in whole milliseconds).
MIN_RATE_PER_SECOND = 0.0001
MAX_RATE_PER_SECOND = 1_000_000.0


class RateLimiterUnavailable(Exception):
    """The limiter could not answer (Redis down, the script failed, a rate it cannot use)."""


def reserve(
    key: str, *, rate_per_second: float, max_wait: float, burst: int | None = None, fail_open: bool = True
) -> float:
    """Seconds to wait before going ahead for ``key`` (0: now); see the module docstring.

    ``key`` is a cache key (the cache's prefix is added), named by the caller's namespace.
    When the limiter cannot answer, ``fail_open`` decides: go ahead (0) or raise
    :class:`RateLimiterUnavailable`.
    """
    try:
        if not (
            isinstance(rate_per_second, (int, float))
            and math.isfinite(rate_per_second)
            and MIN_RATE_PER_SECOND <= rate_per_second <= MAX_RATE_PER_SECOND
        ):
            raise ValueError(f"unusable rate {rate_per_second!r} (per second)")
        interval = 1.0 / rate_per_second
        burst = burst or max(1, int(rate_per_second))
        if not uses_redis():
            return _local.reserve(key, interval, burst, max_wait)
        return _redis_reserve(key, interval, burst, max_wait)
    except Exception as exc:
        if not fail_open:
            raise RateLimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        logger.warning("rate limiter unavailable; going ahead without it", exc_info=True, extra={"key": key})
        return 0.0
