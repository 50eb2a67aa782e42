"""Project-wide middleware: request ids and the request body cap."""

import re
import uuid

from django.conf import settings
from django.http import JsonResponse

from birthdaybuddy.logging import request_id_var

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes a sane ``X-Request-ID`` from the client or makes one, and echoes it back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
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
            if getattr(request, "path", "").endswith("/import")
            else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if length > limit:
            return JsonResponse(
                {"detail": f"Request body is too large ({length} bytes; the limit is {limit}).", "code": "too_large"},
                status=413,
            )
        return self.get_response(request)
