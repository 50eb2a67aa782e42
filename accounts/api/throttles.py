"""Strict rate limits for the credential endpoints: per client IP and per submitted email.

Each endpoint has its own buckets (``view.auth_throttle_bucket``), so a sign-up does not use up
the login allowance. Rates are the ``auth_ip`` / ``auth_email`` entries of
``DEFAULT_THROTTLE_RATES``. They slow down guessing; they are not the only control (codes and
tokens have their own attempt limits), since throttle counters race under concurrency.
"""

import hashlib
from collections.abc import Mapping

from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


def _bucket(view) -> str:
    return getattr(view, "auth_throttle_bucket", None) or type(view).__name__.lower()


class AuthIPRateThrottle(SimpleRateThrottle):
    """Counts requests per client IP (honouring ``NUM_PROXIES``)."""

    scope = "auth_ip"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": f"{self.scope}:{_bucket(view)}", "ident": self.get_ident(request)}


class AuthEmailRateThrottle(SimpleRateThrottle):
    """Counts requests per submitted ``email`` (a hash of it, lower-cased); skipped without one.

    Views using it parse the body before the throttles run (``AuthThrottleMixin``), so an
    unparsable body reaches this throttle as empty data and still counts against the IP.
    """

    scope = "auth_email"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, Mapping) else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": f"{self.scope}:{_bucket(view)}", "ident": ident}


class AuthThrottleMixin:
    """For views of credential endpoints: the default throttles plus the two strict ones.

    The body is parsed before throttling and a parse error (400) or unsupported media type
    (415) is raised only after every throttle has counted the request: junk bodies use up
    the allowance too, and a throttled client gets 429 whatever it sends.
    """

    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, AuthIPRateThrottle, AuthEmailRateThrottle]

    def check_throttles(self, request):
        try:
            request.data  # noqa: B018 - parses the body once, up front
        except (exceptions.ParseError, exceptions.UnsupportedMediaType) as exc:
            body_error = exc
        else:
            body_error = None
        super().check_throttles(request)
        if body_error is not None:
            raise body_error
