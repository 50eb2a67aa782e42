"""The sweeper: rows a dead worker left in ``sending`` and ``pending`` rows the broker lost."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.entries import audit_notification_failed
from notifications import conf, leases, threads
from notifications.delivery.common import RETRY_AFTER_UNKNOWN_CHANNELS, Outcome, S
from notifications.models import DeliveryAttempt, Notification
from notifications.queueing import enqueue_on_commit

logger = logging.getLogger("notifications.delivery")


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recovers what Celery lost: stuck ``sending`` rows and ``pending`` rows nobody took.

    - ``sending`` whose claim's lease has lapsed (``notifications/leases.py``): the worker
      died mid-send. Slack/email (retry not yet used, attempts left) → ``pending`` again;
      SMS/WhatsApp, or a second loss → ``unknown``. Each gets a ``DeliveryAttempt`` saying so.
      A row whose holder is alive — however long it waits — is left alone.
    - ``pending`` more than ``NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS`` past
      ``next_attempt_at``: the broker lost the task (Redis restart, a dropped message) →
      queued again; ``next_attempt_at`` moves to now so a row is re-queued at most once per
      grace period while the workers are merely behind. A duplicate task is harmless: only
      one claim succeeds.
    - thread replies still waiting for a parent that is settled (or gone): their release was
      lost (``notifications/threads.py``) → due now and queued (counted as re-queued).
    """
    now = now or timezone.now()
    limit = conf.sweep_limit()
    counts: Counter = Counter()
    requeue: list[str] = []

    # Pending rows first, so the rows reset below are not counted twice.
    lost = [
        str(pk)
        for pk in Notification.objects.filter(status=S.PENDING, next_attempt_at__lte=now - conf.sweep_pending_grace())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    ]
    if lost:
        Notification.objects.filter(pk__in=lost, status=S.PENDING).update(next_attempt_at=now)
        counts["requeued"] = len(lost)
    counts["requeued"] += len(threads.thread_replies_release_settled(now=now, limit=limit))

    stuck = lost_claims(now=now, limit=limit)
    for notification in stuck:
        note = f"worker lost during attempt {notification.attempts}: outcome unknown"
        retry = (
            notification.channel in RETRY_AFTER_UNKNOWN_CHANNELS
            and not notification.retried_after_unknown
            and notification.attempts < conf.max_attempts()
        )
        fields: dict = {"claim_token": None, "updated_at": now}
        if retry:
            fields |= {
                "status": S.PENDING,
                "retried_after_unknown": True,
                "next_attempt_at": now,
                "last_error": f"{note}; retried once (the message may arrive twice)",
            }
        else:
            fields |= {"status": S.UNKNOWN, "last_error": f"{note}; not retried automatically (resend it if needed)"}
        with transaction.atomic():
            updated = Notification.objects.filter(
                pk=notification.pk, status=S.SENDING, claim_token=notification.claim_token
            ).update(**fields)
            if updated and not retry:
                audit_notification_failed(notification=notification, status=S.UNKNOWN, reason=fields["last_error"])
            if updated:
                DeliveryAttempt.objects.bulk_create(
                    [
                        DeliveryAttempt(
                            notification_id=notification.pk,
                            number=max(1, notification.attempts),
                            started_at=notification.updated_at,
                            finished_at=now,
                            outcome=Outcome.UNKNOWN,
                            error="worker lost (found by the sweeper)",
                        )
                    ],
                    ignore_conflicts=True,
                )
        if updated:
            counts["reset" if retry else "unknown"] += 1
            if retry:
                requeue.append(str(notification.pk))

    enqueue_on_commit(lost + requeue)
    result = {"requeued": counts["requeued"], "reset": counts["reset"], "unknown": counts["unknown"]}
    if any(result.values()):
        logger.warning("sweeper: %s", result)
    return result


def lost_claims(*, now: datetime, limit: int) -> list[Notification]:
    """``sending`` rows whose worker is gone: older than a lease and with no live lease.

    If the cache cannot be read, only rows older than the hard bound (the task's time limit
    + 30 s, when Celery has killed any task still running) count as lost.
    """
    fields = ("id", "channel", "attempts", "retried_after_unknown", "claim_token", "updated_at")
    candidates = list(
        Notification.objects.filter(status=S.SENDING, updated_at__lte=now - conf.claim_lease())
        .order_by("updated_at")
        .only(*fields)[:limit]
    )
    if not candidates:
        return []
    try:
        live = leases.alive({n.claim_token for n in candidates})
    except Exception as exc:
        logger.warning("sweeper: cannot read delivery leases (%s); only rows past the hard bound count", exc)
        bound = now - conf.sending_timeout()
        return [n for n in candidates if n.updated_at <= bound]
    return [n for n in candidates if str(n.claim_token) not in live]
