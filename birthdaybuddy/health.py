"""Liveness and readiness probes: plain Django views, no authentication, no throttling.

``/health/live`` says the process answers (for container restarts); it touches nothing.
``/health/ready`` says the service can do its work: the database answers ``SELECT 1``,
the cache stores and returns a value, and the Celery broker accepts a connection. Any
failure makes it 503, so a load balancer stops sending traffic while, for example, Redis
restarts.

Anyone sees only ``ok`` per check. The details — each check's latency and error (which can
name hosts, ports and the database) — are for a signed-in staff member (the admin's
session) or a caller presenting ``HEALTH_TOKEN`` in the ``X-Health-Token`` header (for
monitoring; unset, no token works). Staff also see the worker's periodic jobs
(``birthdaybuddy/worker_health.py``): when the tick and the sweeper last succeeded and
failed, and why; and the tz database in use (``tzdata``: its IANA version and whether it is
the pinned package, ``birthdaybuddy/tzdb.py``). ``/health/worker`` is the worker's
readiness: 503 when the tick or the sweeper has been failing or has not succeeded for
``WORKER_STALE_SECONDS`` — the web can serve while the worker cannot deliver, so that is a
probe of its own.

They are not part of the API and not in the OpenAPI schema (drf-spectacular only sees DRF
views). ``SECURE_REDIRECT_EXEMPT`` lets probes use plain HTTP behind the proxy.
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from birthdaybuddy import tzdb, worker_health

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


def _worker(*, detailed: bool) -> dict:
    """The worker's jobs; errors and timestamps only in the detailed (staff) form."""
    try:
        status = worker_health.jobs_status()
    except Exception as exc:
        return {"ok": False, "error": f"cannot read the worker's health: {type(exc).__name__}"}
    if not detailed:
        keep = ("ok", "seconds_since_success", "consecutive_failures")
        status["jobs"] = {name: {k: job.get(k) for k in keep} for name, job in status["jobs"].items()}
    return status


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def _has_health_token(request: HttpRequest) -> bool:
    expected = settings.HEALTH_TOKEN
    presented = request.headers.get("X-Health-Token", "")
    return bool(expected) and constant_time_compare(presented, expected)


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(name, check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in checks.values())
    staff = _is_staff(request)
    if not (staff or _has_health_token(request)):
        checks = {name: {"ok": result["ok"]} for name, result in checks.items()}
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if staff:
        body["worker"] = _worker(detailed=True)
        body["tzdata"] = tzdb.status()
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_safe
def worker(request: HttpRequest) -> JsonResponse:
    status = _worker(detailed=_is_staff(request))
    return JsonResponse(
        {"status": "ok" if status["ok"] else "unavailable", **status}, status=200 if status["ok"] else 503
    )


# Both spellings answer: probes are configured by hand and a redirect would fail some of them.
urlpatterns = [
    re_path(r"^live/?$", live, name="health-live"),
    re_path(r"^ready/?$", ready, name="health-ready"),
    re_path(r"^worker/?$", worker, name="health-worker"),
]
