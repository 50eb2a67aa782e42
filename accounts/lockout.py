"""How django-axes tells sign-in attempts apart: by the account tried and the client's address.

The lock-out key is the pair (settings ``AXES_LOCKOUT_PARAMETERS``): wrong passwords from one
address lock that address out of that account only. The account is the lower-cased email,
whichever form sent it (the admin's ``username`` field, the API's ``email``), so case
variants count as one; the address is the one the throttles and the audit log use
(``NUM_PROXIES`` trusted proxies, nothing else from the request headers).
"""

from __future__ import annotations

from audit.context import client_address


def attempted_username(request, credentials: dict | None) -> str:
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if value is None and request is not None:
        data = getattr(request, "POST", None) or {}
        value = data.get("username") or data.get("email")
    return str(value or "").strip().lower()


def client_ip(request) -> str:
    return client_address(getattr(request, "_request", request)) or ""
