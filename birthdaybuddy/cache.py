"""What the service keeps in the shared cache, by namespace, and the staff tools to inspect it.

Namespaces are key patterns inside the project's cache (``CACHES["default"]``, so the
``KEY_PREFIX`` and version apply). The apps register theirs with :func:`register_namespace`:
``birthdays`` (``workspaces.cache``: computed upcoming birthdays and the per-workspace versions
that invalidate them); registered here, ``throttle`` (the API throttles' buckets and counters)
and ``ratelimit`` (the notifications app's per-destination token buckets).

Cache failures never fail a request or a write: :func:`cache_get` and :func:`cache_set` log them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

THROTTLE = "throttle"
RATELIMIT = "ratelimit"
SCAN_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Namespace:
    """A family of cache keys: ``pattern`` is a glob over the keys as the code names them."""

    name: str
    pattern: str
    description: str
    # Clears the namespace on a cache that cannot list keys (the file cache); returns a report line.
    invalidate: Callable[[], str] | None = None


NAMESPACES: dict[str, Namespace] = {}


def register_namespace(namespace: Namespace) -> None:
    NAMESPACES[namespace.name] = namespace


def cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("cache unavailable: get %s", key, exc_info=True)
        return None


def cache_set(key: str, value: Any, *, timeout: int) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except Exception:
        logger.warning("cache unavailable: set %s", key, exc_info=True)


# DRF's SimpleRateThrottle names its keys "throttle_<scope>_<ident>" (the token-bucket throttles keep its names).
register_namespace(Namespace(THROTTLE, "throttle_*", "Request throttling counters (per user, IP or email)."))
# notifications.ratelimit keeps its Redis token buckets under "notifications:rate:<destination>".
register_namespace(
    Namespace(RATELIMIT, "notifications:rate:*", "Per-destination send rate buckets of the notifications app.")
)


# --- Staff tools --------------------------------------------------------------------------


def backend_name() -> str:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.startswith("django_redis"):
        return "redis"
    if backend.endswith("FileBasedCache"):
        return "file"
    return backend.rsplit(".", 1)[-1]


def _redis():
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _redis_scan(pattern: str) -> tuple[int, int]:
    """(key count, bytes) of the keys matching ``pattern``: SCAN, then MEMORY USAGE (STRLEN if refused)."""
    from redis.exceptions import ResponseError

    client = _redis()
    redis_cache: Any = cache  # django-redis: its client builds the prefixed pattern
    match = redis_cache.client.make_pattern(pattern)
    keys = 0
    size = 0
    memory_usage = True
    batch: list[bytes] = []

    def measure(found: list[bytes]) -> int:
        nonlocal memory_usage
        if memory_usage:
            pipe = client.pipeline(transaction=False)
            for key in found:
                pipe.memory_usage(key)
            try:
                return sum(value or 0 for value in pipe.execute())
            except ResponseError:  # e.g. a Redis-compatible server without MEMORY
                memory_usage = False
        pipe = client.pipeline(transaction=False)
        for key in found:
            pipe.strlen(key)
        return sum(value or 0 for value in pipe.execute(raise_on_error=False) if isinstance(value, int))

    for key in client.scan_iter(match=match, count=SCAN_BATCH):
        keys += 1
        batch.append(key)
        if len(batch) >= SCAN_BATCH:
            size += measure(batch)
            batch = []
    if batch:
        size += measure(batch)
    return keys, size


def _file_cache_totals() -> tuple[int, int]:
    directory = Path(settings.CACHES["default"]["LOCATION"])
    files = [path for path in directory.glob("*.djcache") if path.is_file()] if directory.is_dir() else []
    size = 0
    for path in files:
        try:
            size += path.stat().st_size
        except OSError:  # culled or expired meanwhile
            continue
    return len(files), size


def cache_stats() -> dict[str, Any]:
    """Key count and size in bytes per namespace (Redis), or what the backend allows to know."""
    backend = backend_name()
    if backend == "redis":
        namespaces = []
        for namespace in NAMESPACES.values():
            keys, size = _redis_scan(namespace.pattern)
            namespaces.append(
                {"name": namespace.name, "description": namespace.description, "keys": keys, "bytes": size}
            )
        total_keys, total_bytes = _redis_scan("*")
        return {
            "backend": backend,
            "key_prefix": settings.CACHES["default"].get("KEY_PREFIX", ""),
            "namespaces": namespaces,
            "total": {"keys": total_keys, "bytes": total_bytes},
            "note": "Sizes are Redis MEMORY USAGE (value, key and overhead) summed over the keys.",
        }
    namespaces = [
        {"name": namespace.name, "description": namespace.description, "keys": None, "bytes": None}
        for namespace in NAMESPACES.values()
    ]
    total: dict[str, int | None] = {"keys": None, "bytes": None}
    note = f"The {backend} cache cannot list keys by name: per-namespace figures are not available."
    if backend == "file":
        files, size = _file_cache_totals()
        total = {"keys": files, "bytes": size}
        note += " The total counts every entry file of the cache directory."
    return {
        "backend": backend,
        "key_prefix": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "namespaces": namespaces,
        "total": total,
        "note": note,
    }


class NamespaceNotClearable(Exception):
    pass


def cache_clear(name: str) -> dict[str, Any]:
    """Deletes every key of namespace ``name``. ``KeyError`` if unknown, ``NamespaceNotClearable``
    when the backend cannot find the keys and the namespace has no other way to invalidate them."""
    namespace = NAMESPACES[name]
    backend = backend_name()
    if backend == "redis":
        redis_cache: Any = cache  # django-redis
        deleted = redis_cache.delete_pattern(namespace.pattern, itersize=SCAN_BATCH)
        return {
            "namespace": name,
            "backend": backend,
            "deleted": deleted,
            "detail": f"Deleted {deleted} key(s).",
        }
    if namespace.invalidate is None:
        raise NamespaceNotClearable(
            f"The {backend} cache cannot list keys, and namespace '{name}' has no other way to be cleared."
        )
    return {"namespace": name, "backend": backend, "deleted": None, "detail": namespace.invalidate()}
