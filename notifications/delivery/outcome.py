"""The outcome: each job's new row state, retries scheduled in the row, attempts written."""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, F, Value, When

from audit.entries import audit_notification_failed
from notifications import conf, threads
from notifications.delivery.common import (
    FINAL_FAILURES,
    MAX_RETRY_AFTER_SECONDS,
    RETRY_AFTER_UNKNOWN_CHANNELS,
    Job,
    S,
    attempt_values,
)
from notifications.delivery.sql import Statements, sql_connection
from notifications.models import DeliveryAttempt, Notification
from notifications.providers import OutcomeUnknown, TransientError
from notifications.queueing import enqueue_on_commit

logger = logging.getLogger("notifications.delivery")


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: the provider's Retry-After if it gave one (plus a little
    jitter), else exponential backoff with jitter: ``base·2^(n-1)``, between half and all of it."""
    if retry_after is not None:
        retry_after = min(retry_after, MAX_RETRY_AFTER_SECONDS)
        return retry_after + random.uniform(0, 0.1 * retry_after + 0.1)  # noqa: S311 - jitter, not security
    ceiling = min(conf.retry_max_seconds(), conf.retry_base_seconds() * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311


def decide(job: Job, now: datetime) -> tuple[dict, float | None]:
    """The row's new fields after this attempt, and the retry delay if it goes back to pending."""
    notification = job.notification
    error = job.error
    attempts = notification.attempts
    if job.result is not None:
        return {"status": S.SENT}, None
    if isinstance(error, TransientError):
        if attempts >= conf.max_attempts():
            return {"status": S.FAILED, "last_error": f"gave up after {attempts} attempts: {error.reason}"}, None
        delay = retry_delay(attempts, error.retry_after)
        return {
            "status": S.PENDING,
            "next_attempt_at": now + timedelta(seconds=delay),
            "last_error": error.reason,
        }, delay
    if isinstance(error, OutcomeUnknown):
        if (
            notification.channel in RETRY_AFTER_UNKNOWN_CHANNELS
            and not notification.retried_after_unknown
            and attempts < conf.max_attempts()
        ):
            delay = retry_delay(attempts)
            return {
                "status": S.PENDING,
                "retried_after_unknown": True,
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error": f"{error.reason} (attempt {attempts}); retried once — the message may arrive twice",
            }, delay
        suffix = "" if notification.channel in RETRY_AFTER_UNKNOWN_CHANNELS else "; not retried (billed per message)"
        return {"status": S.UNKNOWN, "last_error": f"{error.reason} (attempt {attempts}){suffix}"}, None
    reason = error.reason if error is not None else "no result"
    return {"status": S.FAILED, "last_error": reason}, None


def record(jobs: list[Job], *, token: uuid.UUID, now: datetime) -> Counter:
    """Writes every job's outcome and queues the retries after commit.

    Successes take one UPDATE and one INSERT of their attempts whatever their number — on
    PostgreSQL a single statement, which needs no transaction of its own when every job
    succeeded (the usual case). Other outcomes: an UPDATE per row, in one transaction with
    everything else.
    """
    outcomes: Counter = Counter()
    sent: list[Job] = []
    others: list[tuple[Job, dict, float | None]] = []
    settled_parents: list = []  # thread parents now settled: their waiting replies may go
    for job in jobs:
        fields, delay = decide(job, now)
        status = fields["status"]
        outcomes["retry" if status == S.PENDING else status] += 1
        if status == S.SENT:
            sent.append(job)
        else:
            others.append((job, fields, delay))
        if status != S.PENDING and threads.may_have_replies(job.notification):
            settled_parents.append(job.notification.pk)
    if not jobs:
        return outcomes
    db = sql_connection()
    if db is not None and not others:
        Statements.of(db).record_sent(db, sent, token=token, now=now)
        threads.thread_replies_release(parent_ids=settled_parents, now=now)
        return outcomes
    attempts: list[DeliveryAttempt] = []
    retries: list[tuple] = []
    with transaction.atomic():
        for job, fields, delay in others:
            notification = job.notification
            attempts.append(attempt_row(job, now))
            mine = Notification.objects.filter(pk=notification.pk, claim_token=token)
            updated = mine.filter(status=S.SENDING).update(
                claim_token=None, rate_reserved=False, updated_at=now, **fields
            )
            if not updated and mine.update(claim_token=None, rate_reserved=False):
                # A Twilio receipt (found by the ?n= id of its callback URL) settled the row while
                # we were waiting for the provider's answer: the receipt is the better truth.
                logger.info("notification %s was settled by a delivery receipt during the send", notification.pk)
            elif not updated:
                logger.warning("notification %s was taken from this worker before it finished", notification.pk)
            if delay is not None and updated:
                retries.append((notification.pk, delay))
            if updated and fields["status"] in FINAL_FAILURES:
                audit_notification_failed(
                    notification=notification, status=fields["status"], reason=fields.get("last_error", "")
                )
        if sent and db is not None:
            Statements.of(db).record_sent(db, sent, token=token, now=now)
        elif sent:
            attempts += [attempt_row(job, now) for job in sent]
            provider_ids = {
                job.notification.pk: job.result.provider_message_id
                for job in sent
                if job.result is not None and job.result.provider_message_id
            }
            extra = {}
            if provider_ids:
                extra["provider_message_id"] = Case(
                    *(When(pk=pk, then=Value(mid)) for pk, mid in provider_ids.items()),
                    default=F("provider_message_id"),
                )
            # ``delivered``/``failed`` set by a receipt that beat this update (see above) stay as they are.
            Notification.objects.filter(pk__in=[job.notification.pk for job in sent], claim_token=token).update(
                status=Case(When(status=S.SENDING, then=Value(S.SENT)), default=F("status")),
                sent_at=now,
                updated_at=now,
                claim_token=None,
                rate_reserved=False,
                **extra,
            )
        DeliveryAttempt.objects.bulk_create(attempts, ignore_conflicts=True)
        threads.thread_replies_release(parent_ids=settled_parents, now=now)
    for pk, delay in retries:
        enqueue_on_commit([pk], countdown=delay)
    return outcomes


def attempt_row(job: Job, now: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(**attempt_values(job, now))
