"""Retention: entries older than ``AUDIT_RETENTION_DAYS`` (default 365; 0 keeps them forever)
are deleted in small chunks by the daily ``prune_history`` job (``notifications/retention.py``)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone as dj_timezone

from audit.queries import audit_entries

# --- retention ------------------------------------------------------------------------------

PRUNE_CHUNK_SIZE = 5_000


def audit_retention() -> timedelta | None:
    """How long entries are kept (``AUDIT_RETENTION_DAYS``, default 365); None: forever (0 or less)."""
    days = settings.AUDIT_RETENTION_DAYS
    return timedelta(days=days) if days and days > 0 else None


def audit_entries_prune(
    *,
    now: datetime | None = None,
    retention: timedelta | None = None,
    chunk_size: int = PRUNE_CHUNK_SIZE,
    dry_run: bool = False,
    deadline: float | None = None,
) -> tuple[int, bool]:
    """Deletes entries older than ``now - retention`` (default :func:`audit_retention`).

    Oldest first, ``chunk_size`` rows per statement and transaction, so the table is never
    locked for long and a large backlog does not hold one huge transaction. ``deadline``
    (a ``time.monotonic()`` value) stops between chunks. Returns ``(deleted, complete)``;
    with ``dry_run`` the count of what would go, and nothing is deleted.
    """
    retention = retention if retention is not None else audit_retention()
    if retention is None:
        return 0, True
    old = audit_entries().older_than((now or dj_timezone.now()) - retention)
    if dry_run:
        return old.count(), True
    return delete_in_chunks(old, order_by="timestamp", chunk_size=chunk_size, deadline=deadline)


def delete_in_chunks(
    queryset: models.QuerySet, *, order_by: str, chunk_size: int, deadline: float | None = None
) -> tuple[int, bool]:
    """Deletes ``queryset``'s rows ``chunk_size`` at a time (each chunk its own short transaction).

    Rows are picked in ``order_by`` order (an indexed column, so each pick is an index range
    scan) and deleted by primary key. For models nothing else refers to (no cascades to collect).
    Returns ``(deleted, complete)``: complete is False when ``deadline`` stopped it early.
    """
    deleted = 0
    model = queryset.model
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by(order_by).values_list("pk", flat=True)[:chunk_size])
            if pks:
                deleted += model._base_manager.using(queryset.db).filter(pk__in=pks).delete()[0]
        if len(pks) < chunk_size:
            return deleted, True
        if deadline is not None and time.monotonic() >= deadline:
            return deleted, False
