"""The project's URLs plus a few views that exist only for the platform tests."""

import logging

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from birthdaybuddy.urls import handler400, handler403, handler404, handler500
from birthdaybuddy.urls import urlpatterns as project_urlpatterns

logger = logging.getLogger("birthdaybuddy.tests.platform")

SECRET_DETAIL = "boom: the database password is hunter2"


def boom(request: HttpRequest):
    raise RuntimeError(SECRET_DETAIL)


class ApiBoomView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()

    def get(self, request: Request):
        raise ZeroDivisionError(SECRET_DETAIL)


def chatty(request: HttpRequest) -> JsonResponse:
    logger.warning("first line")
    logging.getLogger("birthdaybuddy.other").error("second line from another logger")
    logging.getLogger().warning("third line on the root logger")
    return JsonResponse({"ok": True})


def refuse(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "No.", "code": "invalid"}, status=400)


urlpatterns = [
    path("test/boom", boom),
    path("test/api-boom", ApiBoomView.as_view()),
    path("test/chatty", chatty),
    path("test/refuse", refuse),
    *project_urlpatterns,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
