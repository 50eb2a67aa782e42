"""One exception handler for the whole API: every error is JSON with ``detail`` and ``code``.

Validation errors add ``errors``: a message list per field (``non_field_errors`` for the
object as a whole). Django ``ValidationError`` and ``ApplicationError`` from the service
layer are mapped here, so services never import DRF.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from birthdaybuddy.errors import ApplicationError

logger = logging.getLogger(__name__)


def _first_code(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "invalid"


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body is too large.", "code": "too_large"}, status=413)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code)

    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list):
            detail = {"non_field_errors": detail}
        body = {"detail": "Invalid input.", "code": _first_code(detail), "errors": detail}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = None
        if isinstance(detail, dict):  # e.g. simplejwt: {"detail": …, "code": …, "messages": […]}
            code = detail.get("code")
            detail = detail.get("detail", next(iter(detail.values()), ""))
        if isinstance(detail, list):
            detail = detail[0] if detail else ""
        message = str(detail)
        code = str(code) if code else getattr(detail, "code", None) or exc.default_code
        response.data = {"detail": message, "code": code}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["retry_after"] = int(exc.wait)
    return response


def _json_error(status_code: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status_code)


def handler400(request, exception=None):
    return _json_error(400, "Bad request.", "bad_request")


def handler403(request, exception=None):
    return _json_error(403, "You do not have permission to perform this action.", "permission_denied")


def handler404(request, exception=None):
    return _json_error(404, "Not found.", "not_found")


def handler500(request):
    return _json_error(500, "Internal server error. The request id in X-Request-ID identifies it.", "server_error")
