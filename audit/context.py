"""The request an entry is written in: who acted, and from where.

DRF authenticates (JWT) after Django's middleware has run, so auditlog's middleware would
record no actor for API calls. :class:`AuditMiddleware` (in its place) keeps the request at
hand for the request's duration (reset afterwards), and a ``pre_save`` receiver on
``LogEntry`` fills in ``request.user`` at the moment an entry is written — by then DRF has put
the authenticated user on the request. Outside a request the actor is empty ("system").
Someone deleting their own account is recorded by email only (a reference to the deleted row
would fail at commit).
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.conf import settings

from birthdaybuddy.logging import NO_REQUEST, request_id_var

if TYPE_CHECKING:
    from auditlog.models import LogEntry
    from django.http import HttpRequest

# --- the request: actor, address ------------------------------------------------------------


def current_request_id() -> str | None:
    """auditlog's correlation id: the request id of the request being served (X-Request-ID)."""
    request_id = request_id_var.get()
    return None if request_id == NO_REQUEST else request_id


_current_request: ContextVar[HttpRequest | None] = ContextVar("bb_audit_request", default=None)


def client_address(request: HttpRequest) -> str | None:
    """The client's IP as DRF's throttles see it (``NUM_PROXIES`` trusted proxies), if it is an IP."""
    num_proxies = getattr(settings, "REST_FRAMEWORK", {}).get("NUM_PROXIES") or 0
    address = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        address = hops[-min(num_proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


def _request_user(request: HttpRequest | None):
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and getattr(user, "is_authenticated", False) else None


DELETED_USERS_ATTR = "_audit_deleted_user_ids"


class AuditMiddleware:
    """Takes the place of auditlog's middleware: who made an entry, and from where.

    auditlog's own middleware reads ``request.user`` before the view runs; with JWT, DRF only
    authenticates inside the view, so every API entry would be "system". This one keeps the
    request in a context variable while it is served (reset afterwards), and
    :func:`fill_from_request` reads ``request.user`` at the moment an entry is written — by
    then DRF has put the authenticated user on the request (session users of the admin are
    there from the start). It also avoids auditlog's per-request global signal connection.
    The client address honours ``NUM_PROXIES`` instead of trusting any X-Forwarded-For.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def fill_from_request(sender, instance: LogEntry, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    request = _current_request.get()
    if request is None:
        return
    deleted = getattr(request, DELETED_USERS_ATTR, ())
    if instance.actor_id is None:
        user = _request_user(request)
        if user is not None:
            instance.actor_email = user.email
            if user.pk not in deleted:
                instance.actor = user
    elif instance.actor_id in deleted:
        # The actor deletes their own account in this request: the entry keeps their email,
        # a reference to the row would break the foreign key when the transaction commits.
        instance.actor = None
    if instance.remote_addr is None:
        instance.remote_addr = client_address(request)


def note_user_deletion(sender, instance, **kwargs) -> None:
    request = _current_request.get()
    if request is not None:
        request.__dict__.setdefault(DELETED_USERS_ATTR, set()).add(instance.pk)


def request_context() -> dict[str, Any]:
    """Actor, address and correlation id of the request being served (empty outside one)."""
    request = _current_request.get()
    user = _request_user(request)
    return {
        "actor": user,
        "actor_email": getattr(user, "email", None),
        "remote_addr": client_address(request) if request is not None else None,
        "cid": current_request_id(),
    }


def acting_as(user):
    """Entries written inside are ``user``'s (``with acting_as(user): …``): for a request that is
    not the user's own session, such as Slack's signed request naming its user in the body. The
    address stays empty: the request's is Slack's, not the user's."""
    from auditlog.context import set_actor

    return set_actor(user)
