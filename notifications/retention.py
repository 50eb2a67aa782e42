"""Retention: history that is kept only as long as it is useful, pruned daily.

- Audit log entries older than ``AUDIT_RETENTION_DAYS`` (default 365; 0 keeps them forever),
  through ``audit.retention.audit_entries_prune``.
- ``InboundContact`` rows whose last inbound message is older than
  ``INBOUND_CONTACT_RETENTION_DAYS`` (default 7; 0 keeps them forever). They exist for the
  WhatsApp 24-hour session window; a person's opt-out itself lives on ``Person`` and stays.
  The retention never goes below the session window (``WHATSAPP_SESSION_WINDOW_SECONDS``), so
  pruning can never turn a free-form WhatsApp message into a template one.

Both delete in chunks (``audit.retention.delete_in_chunks``), each chunk its own short
transaction. The beat job (``notifications.prune_history``, daily, from migration 0006) runs
:func:`history_prune` with a time budget below the task's time limit and queues itself again
if a backlog is left; ``manage.py prune_history [--dry-run]`` runs it without a budget.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone as dj_timezone

from audit import retention as audit
from notifications import conf
from notifications.models import InboundContact

logger = logging.getLogger(__name__)

CHUNK_SIZE = audit.PRUNE_CHUNK_SIZE
# Well below the task's soft time limit (CELERY_TASK_SOFT_TIME_LIMIT, 120 s).
TASK_TIME_BUDGET_SECONDS = 60.0


def inbound_contact_retention() -> timedelta | None:
    """``INBOUND_CONTACT_RETENTION_DAYS`` (default 7), never less than the WhatsApp session window; None: forever."""
    days = settings.INBOUND_CONTACT_RETENTION_DAYS
    if not days or days <= 0:
        return None
    return max(timedelta(days=days), conf.whatsapp_session_window())


@dataclass(frozen=True)
class Pruned:
    """What one kind of history lost: rows deleted (or, in a dry run, that would be), and from before when."""

    name: str
    deleted: int
    cutoff: datetime | None  # None: kept forever (retention off)
    complete: bool = True


def inbound_contacts_prune(
    *,
    now: datetime | None = None,
    retention: timedelta | None = None,
    chunk_size: int = CHUNK_SIZE,
    dry_run: bool = False,
    deadline: float | None = None,
) -> tuple[int, bool]:
    """Deletes ``InboundContact`` rows last written to before ``now - retention``; ``(deleted, complete)``."""
    retention = retention if retention is not None else inbound_contact_retention()
    if retention is None:
        return 0, True
    old = InboundContact.objects.filter(last_inbound_at__lt=(now or dj_timezone.now()) - retention)
    if dry_run:
        return old.count(), True
    return audit.delete_in_chunks(old, order_by="last_inbound_at", chunk_size=chunk_size, deadline=deadline)


def history_prune(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    time_budget: float | None = None,
) -> list[Pruned]:
    """Prunes the audit log and the inbound contacts (see the module docstring).

    ``time_budget`` (seconds) is checked between chunks; each kind gets at least one chunk, so
    every run makes progress and a re-queued run never loops without deleting anything.
    """
    now = now or dj_timezone.now()
    deadline = time.monotonic() + time_budget if time_budget is not None else None
    results = []
    for name, retention, prune in (
        ("audit log entries", audit.audit_retention(), audit.audit_entries_prune),
        ("inbound contacts", inbound_contact_retention(), inbound_contacts_prune),
    ):
        if retention is None:
            results.append(Pruned(name=name, deleted=0, cutoff=None))
            continue
        deleted, complete = prune(
            now=now, retention=retention, chunk_size=chunk_size, dry_run=dry_run, deadline=deadline
        )
        results.append(Pruned(name=name, deleted=deleted, cutoff=now - retention, complete=complete))
    if not dry_run:
        logger.info("history pruned: %s", ", ".join(f"{result.name} {result.deleted}" for result in results))
    return results
