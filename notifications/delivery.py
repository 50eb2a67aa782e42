"""The delivery state machine: claim, send, record — once per notification, whatever Celery does.

::

    pending ──claim──▶ sending ──▶ sent
       ▲                  │ transient failure (5xx, 429, refused connection) → pending, later
       │                  │ permanent failure (invalid number, channel_not_found, …) → failed
       └──────────────────┤ outcome unknown (timeout after sending): Slack/email → pending once more,
                          │                                          SMS/WhatsApp → unknown
                          └ worker lost (sweeper, after the task's hard time limit): same rule

- **Claim**: one conditional ``UPDATE … WHERE status = 'pending'`` moves a notification to
  ``sending``, increments ``attempts`` and stamps a ``claim_token``, all *before* the
  provider is called. Exactly one worker wins; a redelivered or duplicate task finds the
  row taken and returns quietly. Only the holder of the token may record the outcome.
- **Rate limit**: a claimed notification whose destination has no free slot goes back to
  ``pending`` (the attempt is not counted) and is queued again for its slot.
- **Retries** are scheduled in the row (``next_attempt_at``) and queued with short
  countdowns (``NOTIFICATIONS_MAX_COUNTDOWN_SECONDS``), far below the broker's visibility
  timeout; a task that arrives before ``next_attempt_at`` queues itself again.
- **At most one duplicate**: a Slack/email send whose outcome is unknown is retried once
  (``retried_after_unknown``); the second unknown outcome ends in ``unknown``. SMS and
  WhatsApp are billed per message and never retried after an unknown outcome.

``deliver_batch`` does the same for many notifications with one claim, one bulk update
for the successes, and the provider calls made concurrently: Slack webhooks over one
aiohttp session per worker process (slack-sdk's async client), the rest in a thread pool.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

import aiohttp
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from notifications import conf, ratelimit, twilio_hooks
from notifications.models import ChannelConfig, DeliveryAttempt, Notification, NotificationStatus
from notifications.providers import (
    DeliveryError,
    Message,
    OutcomeUnknown,
    PermanentError,
    Provider,
    SendResult,
    TransientError,
    provider_for,
)
from notifications.providers.slack import SlackWebhookProvider
from notifications.providers.twilio import TwilioProvider
from notifications.queueing import enqueue_on_commit

logger = logging.getLogger(__name__)

# A task may arrive a little before ``next_attempt_at`` (clock skew between machines).
CLOCK_TOLERANCE = timedelta(seconds=1)
# Channels where a possible duplicate is acceptable once; SMS/WhatsApp cost money per message.
RETRY_AFTER_UNKNOWN_CHANNELS = frozenset({"slack", "email"})
MAX_RETRY_AFTER_SECONDS = 3600.0

S = NotificationStatus
Outcome = DeliveryAttempt.Outcome


@dataclass
class _Job:
    notification: Notification
    provider: Provider | None
    message: Message | None
    started_at: datetime
    result: SendResult | None = None
    error: DeliveryError | None = None
    finished_at: datetime | None = None


def _clock(now: datetime | None) -> Callable[[], datetime]:
    """A fixed clock when the caller passes ``now`` (tests, replays), the real one otherwise."""
    return (lambda: now) if now is not None else timezone.now


# --- entry points ---------------------------------------------------------------------------


def deliver_one(*, notification_id, now: datetime | None = None) -> str:
    """Delivers one notification; returns what happened ("sent", "retry", "failed", …, "ignored")."""
    clock = _clock(now)
    started = clock()
    token = uuid.uuid4()
    claimed = _claim([notification_id], now=started, token=token)
    if not claimed:
        return "not_due" if _requeue_early([notification_id], now=started) else "ignored"
    jobs, outcomes = _prepare(claimed, token=token, now=started)
    for job in jobs:
        if job.error is None:
            _send(job, clock)
    outcomes.update(_record(jobs, token=token, now=clock()))
    return next(iter(outcomes))


def deliver_batch(*, notification_ids: Iterable, now: datetime | None = None) -> dict[str, int]:
    """Delivers many notifications with one claim and concurrent provider calls; returns counts."""
    clock = _clock(now)
    started = clock()
    token = uuid.uuid4()
    ids = list(dict.fromkeys(str(pk) for pk in notification_ids))
    claimed = _claim(ids, now=started, token=token)
    claimed_ids = {str(n.pk) for n in claimed}
    outcomes: Counter = Counter()
    unclaimed = [pk for pk in ids if pk not in claimed_ids]
    if unclaimed:
        not_due = _requeue_early(unclaimed, now=started)
        outcomes.update({"not_due": not_due, "ignored": len(unclaimed) - not_due})
    if not claimed:
        return dict(+outcomes)
    jobs, prepared = _prepare(claimed, token=token, now=started)
    outcomes.update(prepared)
    _send_concurrently([job for job in jobs if job.error is None], clock)
    outcomes.update(_record(jobs, token=token, now=clock()))
    return dict(+outcomes)


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Recovers what Celery lost: stuck ``sending`` rows and ``pending`` rows nobody took.

    - ``sending`` for longer than the task's hard time limit: the worker died mid-send.
      Slack/email (retry not yet used, attempts left) → ``pending`` again; SMS/WhatsApp, or
      a second loss → ``unknown``. Each gets a ``DeliveryAttempt`` saying so.
    - ``pending`` more than ``NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS`` past
      ``next_attempt_at``: the broker lost the task (Redis restart, a dropped message) →
      queued again; ``next_attempt_at`` moves to now so a row is re-queued at most once per
      grace period while the workers are merely behind. A duplicate task is harmless: only
      one claim succeeds.
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

    stuck = list(
        Notification.objects.filter(status=S.SENDING, updated_at__lte=now - conf.sending_timeout())
        .order_by("updated_at")
        .only("id", "channel", "attempts", "retried_after_unknown", "claim_token", "updated_at")[:limit]
    )
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


# --- claim and prepare ----------------------------------------------------------------------


def _claim(ids: list, *, now: datetime, token: uuid.UUID) -> list[Notification]:
    """Moves the due ``pending`` notifications among ``ids`` to ``sending``; returns the ones we won.

    One id: a single conditional UPDATE. Several: the rows are first locked with
    ``FOR UPDATE SKIP LOCKED`` so two overlapping batches (a task and its re-queued copy)
    neither deadlock nor wait; rows another worker is claiming are simply not ours.
    """
    due = Notification.objects.filter(pk__in=ids, status=S.PENDING, next_attempt_at__lte=now + CLOCK_TOLERANCE)
    claim = {"status": S.SENDING, "attempts": F("attempts") + 1, "claim_token": token, "updated_at": now}
    if len(ids) == 1:
        count = due.update(**claim)
    else:
        with transaction.atomic():
            locked = list(due.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
            count = Notification.objects.filter(pk__in=locked).update(**claim) if locked else 0
    if not count:
        return []
    return list(Notification.objects.filter(pk__in=ids, claim_token=token).select_related("workspace", "person"))


def _requeue_early(ids: list, *, now: datetime) -> int:
    """Queues again the ``pending`` ids whose time has not come yet; returns how many."""
    early = list(
        Notification.objects.filter(
            pk__in=ids, status=S.PENDING, next_attempt_at__gt=now + CLOCK_TOLERANCE
        ).values_list("pk", "next_attempt_at")
    )
    for pk, next_attempt_at in early:
        enqueue_on_commit([pk], countdown=(next_attempt_at - now).total_seconds())
    return len(early)


def _configs_for(notifications: list[Notification]) -> dict[tuple, ChannelConfig]:
    workspace_ids = {n.workspace_id for n in notifications}
    kinds = {n.channel for n in notifications}
    configs = ChannelConfig.objects.filter(workspace_id__in=workspace_ids, kind__in=kinds, active=True)
    return {(config.workspace_id, config.kind): config for config in configs}


def _prepare(claimed: list[Notification], *, token: uuid.UUID, now: datetime) -> tuple[list[_Job], Counter]:
    """Builds the send jobs; settles opted-out (skipped) and rate-limited (deferred) ones now."""
    configs = _configs_for(claimed)
    jobs: list[_Job] = []
    outcomes: Counter = Counter()
    limit_rates = conf.rate_limit_enabled()
    sessions = twilio_hooks.whatsapp_sessions_open(
        phones=[n.recipient for n in claimed if n.channel == "whatsapp"], now=now
    )
    for notification in claimed:
        person = notification.person
        if person is not None and notification.channel in (person.opted_out_channels or []):
            _release(
                notification,
                token=token,
                now=now,
                status=S.SKIPPED,
                last_error=f"The person opted out of {notification.channel}.",
            )
            outcomes["skipped"] += 1
            continue
        try:
            provider = provider_for(
                channel=notification.channel,
                config=configs.get((notification.workspace_id, notification.channel)),
                workspace=notification.workspace,
            )
        except PermanentError as exc:
            jobs.append(_Job(notification, None, None, started_at=now, error=exc, finished_at=now))
            continue
        if limit_rates and provider.rate_key and provider.rate_per_second and not notification.rate_reserved:
            wait = ratelimit.reserve(
                provider.rate_key, rate_per_second=provider.rate_per_second, max_wait=conf.rate_max_wait_seconds()
            )
            if wait:
                _release(
                    notification,
                    token=token,
                    now=now,
                    status=S.PENDING,
                    next_attempt_at=now + timedelta(seconds=abs(wait)),
                    rate_reserved=wait > 0,
                )
                enqueue_on_commit([notification.pk], countdown=abs(wait))
                outcomes["deferred"] += 1
                continue
        message = Message(
            notification_id=str(notification.pk),
            channel=notification.channel,
            recipient=notification.recipient,
            body=notification.body,
            subject=notification.subject,
            workspace_name=notification.workspace.name,
            whatsapp_session_open=_whatsapp_session_open(provider, notification, sessions),
        )
        jobs.append(_Job(notification, provider, message, started_at=now))
    return jobs, outcomes


def _whatsapp_session_open(provider: Provider, notification: Notification, sessions: dict) -> bool:
    """Whether the recipient wrote to this WhatsApp sender within the session window (free-form allowed)."""
    if notification.channel != "whatsapp" or not isinstance(provider, TwilioProvider):
        return False
    return twilio_hooks.whatsapp_session_is_open(
        sessions.get(notification.recipient, ()),
        account_sid=provider.account_sid,
        from_number=provider.from_number,
        messaging_service_sid=provider.messaging_service_sid,
    )


def _release(notification: Notification, *, token: uuid.UUID, now: datetime, status: str, **fields) -> None:
    """Ends a claim without a provider call: the claim's attempt is not counted."""
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(
        status=status, attempts=F("attempts") - 1, claim_token=None, updated_at=now, **fields
    )


# --- send -----------------------------------------------------------------------------------


def _send(job: _Job, clock: Callable[[], datetime]) -> None:
    try:
        job.result = job.provider.send(job.message)
    except DeliveryError as exc:
        job.error = exc
    except Exception as exc:
        # A library failing in a way we did not foresee: it may have sent, so treat it as unknown.
        logger.exception("provider %s failed unexpectedly", job.provider.name)
        job.error = OutcomeUnknown(f"unexpected error: {type(exc).__name__}")
    job.finished_at = clock()


class _WorkerIO(threading.local):
    """An event loop and aiohttp sessions per worker process and thread, made on first use.

    Prefork children run one task at a time, so this is one loop and one keep-alive pool per
    process; keyed by process id so a child never inherits its parent's loop or sockets, and
    thread-local so a ``--pool=threads`` worker never shares a loop between two batches.
    The thread pool for providers without an async client is shared by the process.
    """

    _executors: ClassVar[dict[int, ThreadPoolExecutor]] = {}

    def __init__(self):
        self.pid: int | None = None

    def _reset(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.sessions: dict[float, aiohttp.ClientSession] = {}

    @property
    def executor(self) -> ThreadPoolExecutor:
        pid = os.getpid()
        if pid not in self._executors:
            self._executors[pid] = ThreadPoolExecutor(
                max_workers=conf.batch_concurrency(), thread_name_prefix="deliver"
            )
        return self._executors[pid]

    async def session(self, timeout: float) -> aiohttp.ClientSession:
        session = self.sessions.get(timeout)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=timeout),
                connector=aiohttp.TCPConnector(limit=100, limit_per_host=50),
                trust_env=False,
            )
            self.sessions[timeout] = session
        return session

    def close(self) -> None:
        """Closes this thread's sessions (at interpreter exit; a killed worker just drops its sockets)."""
        if self.pid != os.getpid():
            return
        for session in self.sessions.values():
            if not session.closed:
                self.loop.run_until_complete(session.close())
        self.sessions.clear()

    def ensure(self) -> _WorkerIO:
        if self.pid != os.getpid():
            self._reset()
        return self


_io = _WorkerIO()
atexit.register(_io.close)


def _send_concurrently(jobs: list[_Job], clock: Callable[[], datetime]) -> None:
    if len(jobs) <= 1:
        for job in jobs:
            _send(job, clock)
        return
    io = _io.ensure()
    io.loop.run_until_complete(_gather(jobs, clock, io))


async def _gather(jobs: list[_Job], clock: Callable[[], datetime], io: _WorkerIO) -> None:
    loop = asyncio.get_running_loop()

    async def one(job: _Job) -> None:
        provider = job.provider
        try:
            if isinstance(provider, SlackWebhookProvider):
                session = await io.session(provider.timeout)
                job.result = await provider.asend(job.message, session=session)
            else:
                await loop.run_in_executor(io.executor, _send, job, clock)
                return
        except DeliveryError as exc:
            job.error = exc
        except Exception as exc:
            logger.exception("provider %s failed unexpectedly", provider.name)
            job.error = OutcomeUnknown(f"unexpected error: {type(exc).__name__}")
        job.finished_at = clock()

    await asyncio.gather(*(one(job) for job in jobs))


# --- record ---------------------------------------------------------------------------------


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try: the provider's Retry-After if it gave one (plus a little
    jitter), else exponential backoff with jitter: ``base·2^(n-1)``, between half and all of it."""
    if retry_after is not None:
        retry_after = min(retry_after, MAX_RETRY_AFTER_SECONDS)
        return retry_after + random.uniform(0, 0.1 * retry_after + 0.1)  # noqa: S311 - jitter, not security
    ceiling = min(conf.retry_max_seconds(), conf.retry_base_seconds() * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311


def _decide(job: _Job, now: datetime) -> tuple[dict, float | None]:
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


def _record(jobs: list[_Job], *, token: uuid.UUID, now: datetime) -> Counter:
    """Writes every job's outcome (one transaction) and queues the retries after commit."""
    outcomes: Counter = Counter()
    attempts: list[DeliveryAttempt] = []
    sent_ids: list = []
    provider_ids: dict = {}
    retries: list[tuple] = []
    with transaction.atomic():
        for job in jobs:
            notification = job.notification
            fields, delay = _decide(job, now)
            attempts.append(_attempt_row(job, now))
            status = fields["status"]
            outcomes["retry" if status == S.PENDING else status] += 1
            if status == S.SENT:
                sent_ids.append(notification.pk)
                if job.result.provider_message_id:
                    provider_ids[notification.pk] = job.result.provider_message_id
                continue
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
        if sent_ids:
            extra = {}
            if provider_ids:
                extra["provider_message_id"] = Case(
                    *(When(pk=pk, then=Value(mid)) for pk, mid in provider_ids.items()),
                    default=F("provider_message_id"),
                )
            # ``delivered``/``failed`` set by a receipt that beat this update (see above) stay as they are.
            Notification.objects.filter(pk__in=sent_ids, claim_token=token).update(
                status=Case(When(status=S.SENDING, then=Value(S.SENT)), default=F("status")),
                sent_at=now,
                updated_at=now,
                claim_token=None,
                rate_reserved=False,
                **extra,
            )
        DeliveryAttempt.objects.bulk_create(attempts, ignore_conflicts=True)
    for pk, delay in retries:
        enqueue_on_commit([pk], countdown=delay)
    return outcomes


def _attempt_row(job: _Job, now: datetime) -> DeliveryAttempt:
    error = job.error
    if job.result is not None:
        outcome, status_code, text = Outcome.SUCCESS, job.result.status_code, ""
    else:
        outcome = {
            "transient": Outcome.TRANSIENT,
            "permanent": Outcome.PERMANENT,
            "unknown": Outcome.UNKNOWN,
        }.get(getattr(error, "outcome", ""), Outcome.PERMANENT)
        status_code, text = getattr(error, "status_code", None), getattr(error, "reason", "")
        if isinstance(error, TransientError) and error.retry_after is not None:
            text = f"{text} (Retry-After {error.retry_after:g}s)"
    return DeliveryAttempt(
        notification_id=job.notification.pk,
        number=max(1, job.notification.attempts),
        started_at=job.started_at,
        finished_at=job.finished_at or now,
        outcome=outcome,
        status_code=status_code if status_code is not None and 0 <= status_code < 32768 else None,
        error=text,
        provider_message_id=job.result.provider_message_id if job.result is not None else "",
    )
