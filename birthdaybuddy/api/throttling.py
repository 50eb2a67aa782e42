"""The API's general throttles: DRF's ``UserRateThrottle`` / ``AnonRateThrottle`` as token buckets.

DRF's throttles keep, per user or client, the list of every request time in the period and
read and write it whole on each request (two cache round trips; at ``6000/min`` a list of
6,000 floats pickled both ways). These keep the same rate (``"600/min"``: 600 at once after a
quiet minute, then one every 100 ms) as one integer per key, checked and updated by one
atomic Redis call (``birthdaybuddy.ratelimit``); a refused request reserves nothing, and
``Retry-After`` is exactly when the next one is allowed. Keys, scopes, rates and
``get_cache_key`` are DRF's, so subclasses and settings work unchanged.

The difference from DRF's sliding window: after a full burst, requests are let through at
the steady rate rather than all at once when the window slides. The credential endpoints'
strict limits (``accounts.api.throttles``) keep DRF's exact window. On the embedded file
cache (no Redis) these fall back to DRF's own algorithm; if Redis is unreachable they let
requests through (the limiter's rule) rather than failing them.
"""

from __future__ import annotations

from rest_framework import throttling

from birthdaybuddy import ratelimit


class TokenBucketMixin:
    """For ``SimpleRateThrottle`` subclasses: the rate as a token bucket in Redis."""

    _bucket_wait: float | None = None

    def allow_request(self, request, view) -> bool:
        if self.rate is None or not ratelimit.uses_redis():
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        wait = ratelimit.reserve(
            self.key, rate_per_second=self.num_requests / self.duration, max_wait=0, burst=self.num_requests
        )
        self._bucket_wait = -wait if wait < 0 else None
        return self._bucket_wait is None

    def wait(self) -> float | None:
        if self._bucket_wait is not None:
            return self._bucket_wait
        return super().wait()


class UserRateThrottle(TokenBucketMixin, throttling.UserRateThrottle):
    """Per authenticated user (``user`` rate); anonymous requests per client IP."""


class AnonRateThrottle(TokenBucketMixin, throttling.AnonRateThrottle):
    """Per client IP, for anonymous requests only (``anon`` rate)."""
