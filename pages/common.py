"""What every people's page shares: its language, its throttle, its error pages, its headers."""

from __future__ import annotations

import contextlib
from zoneinfo import ZoneInfo

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from rest_framework.settings import api_settings

from birthdaybuddy.api.throttling import AnonRateThrottle
from birthdaybuddy.i18n import language_of

HTML_TYPES = ("text/html", "application/xhtml+xml")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def language_for(*, person=None, workspace=None, request=None) -> str:
    """The person's language, else the workspace's locale; on pages of no workspace, the browser's."""
    if workspace is None and person is None and request is not None:
        return translation.get_language_from_request(request)
    return language_of(person=person, workspace=workspace)


def wants_html(request) -> bool:
    """A browser asking for a page (or posting a form), as opposed to an API client.

    API clients keep JSON: no ``Accept`` header, ``*/*`` or ``application/json`` first. A
    browser names ``text/html`` explicitly; a form post is form-encoded.
    """
    if request.method == "POST":
        return request.content_type in FORM_TYPES
    accept = request.headers.get("Accept", "")
    if not any(kind in accept for kind in HTML_TYPES):
        return False
    return request.get_preferred_type(["application/json", *HTML_TYPES]) in HTML_TYPES


class PageRateThrottle(AnonRateThrottle):
    """Per client IP, like the API's public endpoints: ``scope``'s rate, counted per page (``bucket``)."""

    def __init__(self, scope: str, bucket: str):
        self.scope = scope
        self.bucket = bucket
        super().__init__()

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or api_settings.DEFAULT_THROTTLE_RATES["pages"]

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"page:{self.bucket}:{self.scope}", "ident": self.get_ident(request)}


def throttled(request, scope: str = "pages", *, bucket: str | None = None) -> float | None:
    """Seconds to wait when the client has used up ``scope``'s rate, else None (and the request counts)."""
    throttle = PageRateThrottle(scope, bucket or scope)
    if throttle.allow_request(request, None):
        return None
    return max(1.0, throttle.wait() or 1.0)


def page(
    request,
    template: str,
    context: dict | None = None,
    *,
    status: int = 200,
    language: str | None = None,
    time_zone: str | None = None,
):
    """Renders a page in ``language`` (times in ``time_zone``): never cached, varied by Accept."""
    zone = dj_timezone.override(ZoneInfo(time_zone)) if time_zone else contextlib.nullcontext()
    with translation.override(language or settings.LANGUAGE_CODE), zone:
        response = render(request, template, context or {}, status=status)
        response["Content-Language"] = translation.get_language()
    add_never_cache_headers(response)
    patch_vary_headers(response, ("Accept",))
    return response


def too_many_requests(request, wait: float, *, language: str | None = None):
    response = page(request, "pages/throttled.html", {"wait": int(wait)}, status=429, language=language)
    response["Retry-After"] = str(int(wait))
    return response


def message_page(request, *, title: str, message: str, status: int, language: str | None = None, **extra):
    """A page that only says something: a bad link, an expired invitation, a cancelled event."""
    return page(
        request, "pages/message.html", {"title": title, "message": message, **extra}, status=status, language=language
    )
