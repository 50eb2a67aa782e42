"""What the service keeps in the shared cache, by namespace, and the staff tools to inspect it.

Namespaces are key patterns inside the project's cache (``CACHES["default"]``, so the
``KEY_PREFIX`` and version apply): ``birthdays`` (computed upcoming birthdays and the
per-workspace versions that invalidate them), ``throttle`` (the API throttles' buckets and counters) and
``ratelimit`` (the notifications app's per-destination token buckets). Another app can add
its own with :func:`register_namespace`.

Birthdays invalidation: every cached answer is stored together with the workspace's
*version*, kept in the cache itself, and is read in the same round trip as the version
(``MGET``); it counts only while the two are equal. A write bumps the version (``incr``),
so the next read misses, recomputes and overwrites the entry. The version
is bumped at once (readers in the same transaction, and tests, see the change) and again
when the transaction commits (a concurrent reader that recomputed from not yet committed
data cached it under the old version). A missing version key (evicted, cleared) starts
again from a random number, so it never matches an entry stored under an earlier version.
On the file cache ``incr`` is a read and a write, not atomic: two concurrent bumps may
count once, which still changes the version.

Cache failures never fail a request or a write: reads fall back to the database, and a
failed bump is logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

BIRTHDAYS = "birthdays"
THROTTLE = "throttle"
RATELIMIT = "ratelimit"

# Entries are keyed by the local date too, so they only need to live for part of a day.
BIRTHDAYS_TTL = 6 * 3600
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


# --- Birthdays: per-workspace versions ----------------------------------------------------


def _version_key(workspace_id) -> str:
    return f"{BIRTHDAYS}:version:{workspace_id}"


def _fresh_version() -> int:
    return secrets.randbits(48)


def birthdays_version(workspace_id) -> int | None:
    """The workspace's current version (created if missing); ``None`` if the cache is down."""
    key = _version_key(workspace_id)
    try:
        version = cache.get(key)
        if version is None:
            cache.add(key, _fresh_version(), timeout=None)
            version = cache.get(key)
    except Exception:
        logger.warning("cache unavailable: reading birthdays without it", exc_info=True)
        return None
    return version


def _bump(workspace_id) -> None:
    key = _version_key(workspace_id)
    try:
        try:
            cache.incr(key)
        except ValueError:  # missing: start afresh (a concurrent bump may have created it meanwhile)
            if not cache.add(key, _fresh_version(), timeout=None):
                cache.incr(key)
    except Exception:
        logger.exception("could not invalidate the cached birthdays of workspace %s", workspace_id)


def birthdays_bump(workspace_ids: Iterable | Any) -> None:
    """Makes the next birthdays read of these workspaces (one id or several) recompute.

    Bumps now and, inside a transaction, once more after it commits (see the module doc).
    """
    ids = {workspace_ids} if not isinstance(workspace_ids, (set, frozenset, list, tuple)) else set(workspace_ids)
    ids.discard(None)
    for workspace_id in ids:
        _bump(workspace_id)
    if ids and transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: [_bump(workspace_id) for workspace_id in ids], robust=True)


def birthdays_forget(workspace_id) -> None:
    """Drops a deleted workspace's version key (its entries expire on their own)."""
    try:
        cache.delete(_version_key(workspace_id))
    except Exception:
        logger.exception("could not drop the birthdays version of workspace %s", workspace_id)


def birthdays_key(*, workspace_id, parts: Iterable[Any]) -> str:
    rest = ("-" if part is None else str(part) for part in parts)
    return ":".join([BIRTHDAYS, str(workspace_id), *rest])


def birthdays_read(workspace_id, key: str, *, version: int | None = None) -> tuple[int | None, Any]:
    """``(version, value)``: the workspace's current version and the value stored under ``key``
    at that version (``None`` if absent or stored at another version), in one round trip.

    Pass the ``version`` already read in this request to read only the entry. A version of
    ``None`` means the cache is unavailable: compute without it and store nothing.
    """
    try:
        if version is None:
            version_key = _version_key(workspace_id)
            found = cache.get_many([version_key, key])
            version = found.get(version_key)
            if version is None:  # nothing stored can belong to a version that is only starting
                cache.add(version_key, _fresh_version(), timeout=None)
                return cache.get(version_key), None
            entry = found.get(key)
        else:
            entry = cache.get(key)
    except Exception:
        logger.warning("cache unavailable: reading birthdays without it", exc_info=True)
        return None, None
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version:
        return version, entry[1]
    return version, None


def birthdays_store(key: str, value: Any, *, version: int) -> None:
    """Stores ``value`` under ``key`` as computed at ``version`` (see ``birthdays_read``)."""
    cache_set(key, (version, value), timeout=BIRTHDAYS_TTL)


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


def _invalidate_all_birthdays() -> str:
    from workspaces.models import Workspace

    ids = list(Workspace.objects.values_list("pk", flat=True))
    cache.delete_many([_version_key(workspace_id) for workspace_id in ids])
    return (
        f"Invalidated the cached birthdays of {len(ids)} workspace(s); this cache cannot list keys, "
        f"so the old entries expire within {BIRTHDAYS_TTL // 3600} h."
    )


register_namespace(
    Namespace(
        BIRTHDAYS,
        f"{BIRTHDAYS}:*",
        "Upcoming birthdays and anniversaries per workspace, and each workspace's version key.",
        invalidate=_invalidate_all_birthdays,
    )
)
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
    match = cache.client.make_pattern(pattern)
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
    total = {"keys": None, "bytes": None}
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
        deleted = cache.delete_pattern(namespace.pattern, itersize=SCAN_BATCH)
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
