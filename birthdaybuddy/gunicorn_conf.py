"""gunicorn's settings for the service: ``gunicorn -c python:birthdaybuddy.gunicorn_conf birthdaybuddy.wsgi``.

Some requests are answered by gunicorn itself, before (or instead of) the application: a
request line over ``limit_request_line`` (414), too many or too large headers (431), a
malformed request (400), and a request whose worker gunicorn killed at its ``timeout`` (500,
sync workers: the abort reaches the request, and gunicorn answers if nothing was sent yet).
gunicorn writes all of these through one function, ``gunicorn.util.write_error``, which only
writes an HTML page; it has no setting or hook for it. This module, loaded by the master
before any worker is forked, makes that function write the API's JSON error shape instead
(``{"detail", "code"}``, as ``birthdaybuddy.api.schema.ERROR_SCHEMA`` documents) with the
headers every other response carries that apply to a body-less error.

What gunicorn cannot answer stays unanswered: a gthread worker killed at its timeout drops its
connections (the proxy in front answers 502/504 with its own page), and a request line the
proxy refuses never reaches gunicorn.
"""

from __future__ import annotations

import json

from gunicorn import util

# The statuses gunicorn answers by itself, and what the client did wrong (or what went wrong).
_ERRORS = {
    400: ("bad_request", "The request could not be read as HTTP."),
    403: ("forbidden", "The request was refused."),
    414: ("uri_too_long", "The request line (method, path and query) is longer than the server accepts."),
    417: ("expectation_failed", "The Expect header asks for something the server does not do."),
    431: ("headers_too_large", "The request has more or larger header fields than the server accepts."),
    500: ("server_error", "The server could not finish this request (it took too long or failed); try again."),
    501: ("not_implemented", "The request uses a transfer coding the server does not support."),
}
_HEADERS = (
    "Connection: close",
    "Content-Type: application/json",
    "Cache-Control: no-store",
    "X-Content-Type-Options: nosniff",
    "X-Frame-Options: DENY",
    "Referrer-Policy: same-origin",
)


def error_body(status: int, message: str) -> bytes:
    """The JSON body of an error gunicorn answers; ``message`` is gunicorn's own, kept as a hint."""
    code, detail = _ERRORS.get(status, ("server_error" if status >= 500 else "bad_request", "The request failed."))
    body = {"detail": detail, "code": code}
    if message and status < 500:
        body["reason"] = message[:200]
    return json.dumps(body).encode()


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """``gunicorn.util.write_error`` with a JSON body (same signature, same non-blocking write)."""
    body = error_body(int(status_int), mesg)
    head = "\r\n".join([f"HTTP/1.1 {int(status_int)} {reason}", *_HEADERS, f"Content-Length: {len(body)}", "", ""])
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_json_error
