"""The ``birthdays`` cache namespace: computed upcoming birthdays and the per-workspace versions
that invalidate them (the namespaces and staff tools: ``birthdaybuddy.cache``).

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
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction

from birthdaybuddy.cache import Namespace, cache_set, register_namespace

logger = logging.getLogger(__name__)

BIRTHDAYS = "birthdays"

# Entries are keyed by the local date too, so they only need to live for part of a day.
BIRTHDAYS_TTL = 6 * 3600


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
