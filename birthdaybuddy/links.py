"""Absolute links to this service, for messages that leave it (emails, texts, calendar feeds).

One base for all of them: ``PUBLIC_BASE_URL`` when set (the origin people reach us at in
production), else the address the server was started on (``SERVED_BASE_URL``, which
``manage.py runstack`` sets from its ``--host``/``--port``), so a link never points at a port
nothing listens on.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.urls import reverse


def public_base_url() -> str:
    return (settings.PUBLIC_BASE_URL or settings.SERVED_BASE_URL or "http://localhost:8000").rstrip("/")


def absolute_url(path: str, query: dict | None = None) -> str:
    """``path`` (starting with ``/``) on the public base, with an optional query."""
    url = public_base_url() + path
    if query:
        url += "?" + urlencode(query)
    return url


def absolute_reverse(viewname: str, *, kwargs: dict | None = None, query: dict | None = None) -> str:
    return absolute_url(reverse(viewname, kwargs=kwargs), query)


def webcal_url(url: str) -> str:
    """The ``webcal://`` form of an http(s) calendar URL (calendar apps subscribe to it)."""
    parts = urlsplit(url)
    return urlunsplit(("webcal", parts.netloc, parts.path, parts.query, ""))
