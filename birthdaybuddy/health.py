"""Liveness and readiness probes: plain Django views, no authentication, no throttling.

``/health/live`` says the process answers (for container restarts); it touches nothing.
``/health/ready`` says the service can do its work: the database answers ``SELECT 1``,
the cache stores and returns a value, and the Celery broker accepts a connection. Any
failure makes it 503, with the failing check's error, so a load balancer stops sending
traffic while, for example, Redis restarts.

They are not part of the API and not in the OpenAPI schema (drf-spectacular only sees DRF
views). ``SECURE_REDIRECT_EXEMPT`` lets probes use plain HTTP behind the proxy.
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if row is None or row[0] != 1:
        raise RuntimeError(f"SELECT 1 returned {row!r}")


def check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    try:
        stored = cache.get(key)
    finally:
        cache.delete(key)
    if stored != value:
        raise RuntimeError("the cache did not return the value just stored")


def check_broker() -> None:
    from birthdaybuddy.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def _run(name: str, check: Callable[[], None]) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        logger.warning("readiness check %s failed after %s ms: %s", name, elapsed, exc, exc_info=True)
        return {"ok": False, "ms": elapsed, "error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


# Both spellings answer: probes are configured by hand and a redirect would fail some of them.
urlpatterns = [
    re_path(r"^live/?$", live, name="health-live"),
    re_path(r"^ready/?$", ready, name="health-ready"),
]
