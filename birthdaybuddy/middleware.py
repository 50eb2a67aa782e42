"""Project-wide middleware: request ids and the request body cap."""

import re
import uuid

from django.conf import settings
from django.http import JsonResponse
from django.utils.log import log_response

from birthdaybuddy.logging import last_request_id_var, request_id_var

_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the client or makes one, and echoes it back.

    The id is in ``request_id_var`` while the request is handled, so every log line gets it
    (``RequestIdFilter``). Django logs 4xx/5xx responses only after the whole middleware
    chain has returned, when the id would already be gone; this middleware logs them itself
    (the same message Django would write, once: ``log_response`` marks the response).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        last_request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            if response.status_code >= 400:
                log_response("%s: %s", response.reason_phrase, request.path, response=response, request=request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class BodySizeLimitMiddleware:
    """Refuses bodies over the cap with a JSON 413 before anything reads them.

    Django itself would answer 400 (``RequestDataTooBig``) and only for form data; clients
    deserve the right status and a JSON body for every content type.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number.", "code": "bad_request"}, status=400)
        limit = (
            settings.MAX_UPLOAD_BODY_BYTES
            if getattr(request, "path", "").endswith(("/import", "/files/", "/plan/files"))
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body is too large ({length} bytes; the limit is {limit}).", "code": "too_large"},
                status=413,
            )
        return self.get_response(request)


class RejectNulCharactersMiddleware:
    """Answers 400 to a query string or path containing NUL.

    PostgreSQL text cannot hold U+0000, so a search or filter value with one would fail in
    the database as a server error. (JSON bodies are covered field by field by DRF.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return JsonResponse(
                {"detail": "The URL may not contain NUL (%00) characters.", "code": "null_characters_not_allowed"},
                status=400,
            )
        return self.get_response(request)
