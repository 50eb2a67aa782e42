"""The delivery state machine: claim, send, record — once per notification, whatever Celery does.

::

    pending ──claim──▶ sending ──▶ sent
       ▲                  │ transient failure (5xx, 429, refused connection) → pending, later
       │                  │ permanent failure (invalid number, channel_not_found, …) → failed
       └──────────────────┤ outcome unknown (timeout after sending): Slack/email → pending once more,
                          │                                          SMS/WhatsApp → unknown
                          └ worker lost (sweeper, once the claim's lease lapsed): same rule

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

- **Leases**: while a worker holds a claim it renews the claim's lease in the cache
  (``notifications/leases.py``); the sweeper settles ``sending`` rows only once their lease
  has lapsed, so a dead worker's rows come back within about a minute and a live worker's
  rows are never taken from it, however long it waits.

``deliver_batch`` does the same for many notifications, concurrently, with a window: at most
``NOTIFICATIONS_BATCH_IN_FLIGHT`` rows claimed at a time, each claimed row's provider call
started at once (Slack webhooks over one aiohttp session per worker process, slack-sdk's async
client, on an I/O thread; the rest in a thread pool), outcomes recorded as they come in small
groups, and the next ids claimed as the window frees. A kill at any moment leaves in
``sending`` only calls that were in flight; a hung provider holds only its own messages; a
database outage holds the outcomes in memory until the database is back.

**Statements.** On PostgreSQL the claim is one statement that also returns what the send
needs (the notification's columns, the workspace's name and sender, the person's opt-outs,
the active channel config), and the successes are recorded with their attempts by one more:
a message that goes out costs two statements and no explicit transaction, a batch one claim
per window refill and one record per group of outcomes. Other outcomes keep the ORM path (a
transaction with an UPDATE per row), and so does everything on SQLite (``_sql_connection``;
``NOTIFICATIONS_DELIVERY_SQL=False`` forces it).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import ClassVar, TypeVar

import aiohttp
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from audit.entries import audit_notification_failed
from birthdaybuddy.db import ModelColumns
from notifications import conf, leases, ratelimit, twilio_hooks
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
from workspaces.models import Person, Workspace

logger = logging.getLogger(__name__)

# A task may arrive a little before ``next_attempt_at`` (clock skew between machines).
CLOCK_TOLERANCE = timedelta(seconds=1)
# Channels where a possible duplicate is acceptable once; SMS/WhatsApp cost money per message.
RETRY_AFTER_UNKNOWN_CHANNELS = frozenset({"slack", "email"})
# Ends that need a person: recorded in the workspace's audit log (replayable from there).
FINAL_FAILURES = frozenset({NotificationStatus.FAILED, NotificationStatus.UNKNOWN})
MAX_RETRY_AFTER_SECONDS = 3600.0

S = NotificationStatus
Outcome = DeliveryAttempt.Outcome
T = TypeVar("T")


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
    """Delivers one notification; returns what happened ("sent", "retry", "failed", …, "ignored").

    On PostgreSQL a message that goes out costs two statements, each its own transaction:
    the claim (which also reads everything the send needs) and the record of the success.
    """
    clock = _clock(now)
    started = clock()
    token = uuid.uuid4()
    with leases.held(token):
        claimed, configs = _claim([notification_id], now=started, token=token)
        if not claimed:
            return "not_due" if _requeue_early([notification_id], now=started) else "ignored"
        jobs, outcomes = _prepare(claimed, configs=configs, token=token, now=started)
        for job in jobs:
            if job.error is None:
                _send(job, clock)
        deadline = time.monotonic() + conf.database_retry_seconds()
        outcomes.update(_while_database_returns(lambda: _record(jobs, token=token, now=clock()), deadline))
    return next(iter(outcomes))


def deliver_batch(*, notification_ids: Iterable, now: datetime | None = None) -> dict[str, int]:
    """Delivers many notifications concurrently, recording each outcome as it comes; returns counts.

    The batch holds at most ``NOTIFICATIONS_BATCH_IN_FLIGHT`` claimed rows at a time: it claims
    the next ids only as earlier ones are recorded, and every claimed row's provider call starts
    at once (nothing claimed waits in a queue). Finished sends are recorded in small groups
    (``NOTIFICATIONS_BATCH_RECORD_GROUP``, or after ``NOTIFICATIONS_BATCH_RECORD_DELAY_SECONDS``),
    each group in one statement. So a kill at any point leaves in ``sending`` only rows whose
    call was in flight (or had just finished), and a slow or hung provider delays only its own
    messages. During a database outage the outcomes wait in memory while the claim's lease is
    kept, and are written when the database is back.
    """
    return _Batch(ids=notification_ids, clock=_clock(now)).run()


class _Batch:
    """One ``deliver_batch`` run: a window of claimed rows whose sends run on the worker's I/O."""

    def __init__(self, *, ids: Iterable, clock: Callable[[], datetime]):
        self.backlog = deque(dict.fromkeys(str(pk) for pk in ids))
        self.clock = clock
        self.token = uuid.uuid4()
        self.window = conf.batch_in_flight()
        self.delay = conf.batch_record_delay()
        self.finished = _Finished(group=conf.batch_record_group())
        self.held = 0  # claimed and not yet recorded: sending, or finished and waiting for its group
        self.outcomes: Counter = Counter()
        self.deadline = time.monotonic() + conf.database_retry_seconds()

    def run(self) -> dict[str, int]:
        with leases.held(self.token):
            while self.backlog or self.held:
                room = self.window - self.held
                if self.backlog and room > 0 and (room >= min(self.finished.group, len(self.backlog)) or not self.held):
                    self._claim_more(room)
                    continue
                self._record(self.finished.take(timeout=self.delay))
        return dict(+self.outcomes)

    def _record(self, jobs: list[_Job]) -> None:
        if jobs:
            record = partial(_record, jobs, token=self.token)
            self.outcomes.update(_while_database_returns(lambda: record(now=self.clock()), self.deadline))
            self.held -= len(jobs)

    def _claim_more(self, room: int) -> None:
        ids = [self.backlog.popleft() for _ in range(min(room, len(self.backlog)))]
        started = self.clock()
        claimed, configs = _while_database_returns(lambda: _claim(ids, now=started, token=self.token), self.deadline)
        if len(claimed) < len(ids):
            claimed_ids = {str(n.pk) for n in claimed}
            unclaimed = [pk for pk in ids if pk not in claimed_ids]
            not_due = _requeue_early(unclaimed, now=started)
            self.outcomes.update({"not_due": not_due, "ignored": len(unclaimed) - not_due})
        if not claimed:
            return
        jobs, prepared = _prepare(claimed, configs=configs, token=self.token, now=started)
        self.outcomes.update(prepared)
        self.held += len(jobs)
        self.finished.expect(len(jobs))
        # A job without a provider call (e.g. no channel configured) is recorded as it is.
        for job in jobs:
            if job.error is not None:
                self.finished.add(job)
        _io.start([job for job in jobs if job.error is None], self.clock, self.finished.add)


class _Finished:
    """Sends that finished, handed from the I/O threads to the batch's thread in groups.

    The batch's thread sleeps until a group is full, everything it waits for has finished, or
    the record delay has passed — not once per message.
    """

    def __init__(self, *, group: int):
        self.group = group
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.jobs: list[_Job] = []
        self.open = 0

    def expect(self, count: int) -> None:
        with self.lock:
            self.open += count

    def add(self, job: _Job) -> None:
        with self.lock:
            self.jobs.append(job)
            self.open -= 1
            if len(self.jobs) >= self.group or not self.open:
                self.ready.set()

    def take(self, *, timeout: float) -> list[_Job]:
        self.ready.wait(timeout)
        with self.lock:
            jobs, self.jobs = self.jobs, []
            self.ready.clear()
        return jobs


def _while_database_returns(action: Callable[[], T], deadline: float) -> T:
    """Runs ``action``; while the database is unreachable, retries it with backoff until ``deadline``.

    Both the claim and the record are safe to run again: a claim takes only ``pending`` rows, and
    a record touches only rows still holding this claim's token (attempts insert ``ON CONFLICT
    DO NOTHING``). The broken connection is closed before each try, so the next one reconnects.
    Inside a transaction (a caller's, or a test's) nothing is retried.
    """
    pause = 0.2
    while True:
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            db = connections[DEFAULT_DB_ALIAS]
            if db.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            logger.warning("database unavailable during delivery (%s); trying again in %.1f s", exc, pause)
            db.close()
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


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

    stuck = _lost_claims(now=now, limit=limit)
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


def _lost_claims(*, now: datetime, limit: int) -> list[Notification]:
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


# --- claim and prepare ----------------------------------------------------------------------


# What delivery reads of a claimed notification and its relations; nothing else is loaded.
CLAIM_FIELDS = (
    "id",
    "workspace",
    "person",
    "channel",
    "recipient",
    "subject",
    "body",
    "calendar",
    "preferences_url",
    "rsvp_url",
    "status",
    "attempts",
    "retried_after_unknown",
    "rate_reserved",
    "claim_token",
)
WORKSPACE_FIELDS = ("id", "name", "sender_name", "sender_email")
PERSON_FIELDS = ("id", "opted_out_channels")

Configs = dict[tuple, ChannelConfig]


def _claim(ids: list, *, now: datetime, token: uuid.UUID) -> tuple[list[Notification], Configs]:
    """Moves the due ``pending`` notifications among ``ids`` to ``sending``; returns the ones we
    won (with their workspace and person) and the active channel configs they need.

    One id: a single conditional UPDATE. Several: the rows are first locked with
    ``FOR UPDATE SKIP LOCKED`` so two overlapping batches (a task and its re-queued copy)
    neither deadlock nor wait; rows another worker is claiming are simply not ours.
    On PostgreSQL this is one statement (``_Statements``), elsewhere a few ORM queries.
    """
    db = _sql_connection()
    if db is not None:
        return _Statements.of(db).claim(db, ids, now=now, token=token)
    due = Notification.objects.filter(pk__in=ids, status=S.PENDING, next_attempt_at__lte=now + CLOCK_TOLERANCE)
    claim = {"status": S.SENDING, "attempts": F("attempts") + 1, "claim_token": token, "updated_at": now}
    if len(ids) == 1:
        count = due.update(**claim)
    else:
        with transaction.atomic():
            locked = list(due.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
            count = Notification.objects.filter(pk__in=locked).update(**claim) if locked else 0
    if not count:
        return [], {}
    claimed = list(
        Notification.objects.filter(pk__in=ids, claim_token=token)
        .select_related("workspace", "person")
        .only(
            *CLAIM_FIELDS,
            *(f"workspace__{name}" for name in WORKSPACE_FIELDS),
            *(f"person__{name}" for name in PERSON_FIELDS),
        )
        .order_by()
    )
    return claimed, _configs_for(claimed)


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


def _configs_for(notifications: list[Notification]) -> Configs:
    workspace_ids = {n.workspace_id for n in notifications}
    kinds = {n.channel for n in notifications}
    configs = ChannelConfig.objects.filter(workspace_id__in=workspace_ids, kind__in=kinds, active=True)
    return {(config.workspace_id, config.kind): config for config in configs}


def _prepare(
    claimed: list[Notification], *, configs: Configs, token: uuid.UUID, now: datetime
) -> tuple[list[_Job], Counter]:
    """Builds the send jobs; settles opted-out (skipped) and rate-limited (deferred) ones now.

    One provider per (workspace, channel): a batch of 200 messages to one webhook builds it once.
    """
    jobs: list[_Job] = []
    providers: dict[tuple, Provider | PermanentError] = {}
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
        key = (notification.workspace_id, notification.channel)
        provider = providers.get(key)
        if provider is None:
            try:
                provider = provider_for(
                    channel=notification.channel, config=configs.get(key), workspace=notification.workspace
                )
            except PermanentError as exc:
                provider = exc
            providers[key] = provider
        if isinstance(provider, PermanentError):
            jobs.append(_Job(notification, None, None, started_at=now, error=provider, finished_at=now))
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
            calendar=notification.calendar if notification.channel == "email" else "",
            preferences_url=notification.preferences_url,
            rsvp_url=notification.rsvp_url,
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


# --- PostgreSQL: the claim and the record of a success, one statement each -----------------
#
# The only raw SQL of delivery. It does what the ORM queries above and below do (they stay the
# reference, and what SQLite runs) in one round trip each and with far less Python per message:
# a data-modifying CTE (``WITH claimed AS (UPDATE … RETURNING …) SELECT …``), which SQLite lacks.
# Table and column names come from the models' ``_meta``. Values read back go through each
# field's own converters (``from_db_value``), so encrypted secrets decrypt exactly as in the ORM.


def _sql_connection():
    """The connection to run the single statements below on, or ``None`` to use the ORM path
    (any database but PostgreSQL, or ``NOTIFICATIONS_DELIVERY_SQL`` off)."""
    db = connections[DEFAULT_DB_ALIAS]
    return db if db.vendor == "postgresql" and conf.delivery_sql() else None


# The claim: ``_claim``'s conditional UPDATE, returning the row together with what ``_prepare``
# reads — the workspace, the person's opt-outs and the active channel config (at most one per
# workspace and kind: ``channelconfig_one_per_kind``). ``{name}``: quoted identifiers from ``_meta``.
_CLAIM_SELECT_SQL = """
SELECT {columns}
  FROM claimed
  JOIN {w_table} w ON w.{w_id} = claimed.{n_workspace}
  LEFT JOIN {p_table} p ON p.{p_id} = claimed.{n_person}
  LEFT JOIN {c_table} c ON c.{c_workspace} = claimed.{n_workspace} AND c.{c_kind} = claimed.{n_channel} AND c.{c_active}
"""
_CLAIM_UPDATE_SQL = """
UPDATE {n_table}
   SET {n_status} = %(sending)s, {n_attempts} = {n_attempts} + 1, {n_claim_token} = %(token)s, {n_updated_at} = %(now)s
 WHERE {where}
RETURNING {returning}
"""
# One id: the plain conditional UPDATE.
_CLAIM_ONE_SQL = "WITH claimed AS ({update}) {select}"
_CLAIM_ONE_WHERE = "{n_id} = %(id)s AND {n_status} = %(pending)s AND {n_next_attempt_at} <= %(due)s"
# Several: the due rows are locked first, skipping those another worker holds (two overlapping
# batches neither wait nor deadlock). Locking re-checks the conditions on the row's latest
# version, and the lock is held until the UPDATE of the same statement, so it needs no other.
_CLAIM_MANY_SQL = """
WITH locked AS MATERIALIZED (
    SELECT {n_id} FROM {n_table}
     WHERE {n_id} = ANY(%(ids)s::{pk_type}[]) AND {n_status} = %(pending)s AND {n_next_attempt_at} <= %(due)s
     ORDER BY {n_id} FOR UPDATE SKIP LOCKED
), claimed AS ({update}) {select}"""
_CLAIM_MANY_WHERE = "{n_id} IN (SELECT {n_id} FROM locked)"
# The record of successes: ``sent`` unless a delivery receipt already settled the row
# (``delivered``/``failed`` win), the provider's message id when it gave one, and the attempts
# inserted by the same statement. ``{sent}``: (id, message id) rows; ``{attempts}``: attempt rows.
_RECORD_SENT_SQL = """
WITH sent AS (
    UPDATE {n_table} n
       SET {n_status} = CASE WHEN n.{n_status} = %s THEN %s ELSE n.{n_status} END,
           {n_sent_at} = %s, {n_updated_at} = %s, {n_claim_token} = NULL, {n_rate_reserved} = false,
           {n_provider_message_id} = COALESCE(NULLIF(v.message_id, ''), n.{n_provider_message_id})
      FROM {sent} v (id, message_id)
     WHERE n.{n_id} = v.id AND n.{n_claim_token} = %s
)
INSERT INTO {attempt_table} ({attempt_columns}) {attempts} ON CONFLICT DO NOTHING
"""
# Several rows: one array per column, so the text is the same for any number of rows (psycopg
# parses it once). One row: plain values, cheaper to adapt than arrays.
_RECORD_MANY = {
    "sent": "unnest(%s::{pk_type}[], %s::text[])",
    "attempts": "SELECT * FROM unnest({attempt_arrays})",
}
_RECORD_ONE = {
    "sent": "(VALUES (%s::{pk_type}, %s::text))",
    "attempts": "VALUES ({attempt_values})",
}


class _Statements:
    """The claim and the record, written once per database alias.

    What they hold does not depend on the thread's connection: quoted names, and converters
    that are the fields' own (PostgreSQL's backend adds none). Each call runs on the calling
    thread's connection.
    """

    _built: ClassVar[dict[str, _Statements]] = {}

    @classmethod
    def of(cls, db) -> _Statements:
        statements = cls._built.get(db.alias)
        if statements is None:
            statements = cls._built[db.alias] = cls(db)
        return statements

    def __init__(self, db):
        self.notification = ModelColumns(db, Notification, "claimed", CLAIM_FIELDS)
        self.workspace = ModelColumns(db, Workspace, "w", WORKSPACE_FIELDS)
        self.person = ModelColumns(db, Person, "p", PERSON_FIELDS)
        self.config = ModelColumns(db, ChannelConfig, "c")
        self.pk = Notification._meta.pk
        self.attempt_fields = [field for field in DeliveryAttempt._meta.concrete_fields if not field.primary_key]
        qn = db.ops.quote_name
        names = {"pk_type": self.pk.db_type(db)}
        for prefix, model in (("n", Notification), ("w", Workspace), ("p", Person), ("c", ChannelConfig)):
            names[f"{prefix}_table"] = qn(model._meta.db_table)
            names |= {f"{prefix}_{field.name}": qn(field.column) for field in model._meta.concrete_fields}
        names |= {
            "attempt_table": qn(DeliveryAttempt._meta.db_table),
            "attempt_columns": ", ".join(qn(field.column) for field in self.attempt_fields),
            "attempt_arrays": ", ".join(f"%s::{field.cast_db_type(db)}[]" for field in self.attempt_fields),
            "attempt_values": ", ".join(["%s"] * len(self.attempt_fields)),
            "returning": ", ".join(qn(field.column) for field in self.notification.fields),
            "columns": ", ".join(
                self.notification.select + self.workspace.select + self.person.select + self.config.select
            ),
        }
        names["select"] = _CLAIM_SELECT_SQL.format_map(names)

        def claim_sql(sql: str, where: str) -> str:
            update = _CLAIM_UPDATE_SQL.format_map(names | {"where": where.format_map(names)})
            return sql.format_map(names | {"update": update})

        self.claim_one = claim_sql(_CLAIM_ONE_SQL, _CLAIM_ONE_WHERE)
        self.claim_many = claim_sql(_CLAIM_MANY_SQL, _CLAIM_MANY_WHERE)
        self.record_one = _RECORD_SENT_SQL.format_map(
            names | {part: sql.format_map(names) for part, sql in _RECORD_ONE.items()}
        )
        self.record_many = _RECORD_SENT_SQL.format_map(
            names | {part: sql.format_map(names) for part, sql in _RECORD_MANY.items()}
        )

    def claim(self, db, ids: list, *, now: datetime, token: uuid.UUID) -> tuple[list[Notification], Configs]:
        params = {
            "sending": S.SENDING,
            "pending": S.PENDING,
            "token": token,
            "now": now,
            "due": now + CLOCK_TOLERANCE,
        }
        if len(ids) == 1:
            sql, params["id"] = self.claim_one, self.pk.to_python(ids[0])
        else:
            sql, params["ids"] = self.claim_many, [self.pk.to_python(pk) for pk in ids]
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        workspace_at = len(self.notification.fields)
        person_at = workspace_at + len(self.workspace.fields)
        config_at = person_at + len(self.person.fields)
        workspaces: dict = {}
        people: dict = {None: None}
        configs: Configs = {}
        claimed = []
        for row in rows:
            notification = self.notification.build(db, row, 0)
            workspace_id, person_id, config_id = row[workspace_at], row[person_at], row[config_at]
            if workspace_id not in workspaces:
                workspaces[workspace_id] = self.workspace.build(db, row, workspace_at)
            if person_id not in people:
                people[person_id] = self.person.build(db, row, person_at)
            if config_id is not None and (notification.workspace_id, notification.channel) not in configs:
                config = self.config.build(db, row, config_at)
                configs[(config.workspace_id, config.kind)] = config
            _WORKSPACE_FIELD.set_cached_value(notification, workspaces[workspace_id])
            _PERSON_FIELD.set_cached_value(notification, people[person_id])
            claimed.append(notification)
        return claimed, configs

    def record_sent(self, db, jobs: list[_Job], *, token: uuid.UUID, now: datetime) -> None:
        attempts = [_attempt_values(job, now) for job in jobs]
        ids = [job.notification.pk for job in jobs]
        message_ids = [job.result.provider_message_id or "" for job in jobs]
        # The values are already what psycopg adapts (aware datetimes, UUIDs, ints, str), so the
        # fields' ``get_db_prep_save`` (which bulk_create would call) is left out: called per
        # value, it took over half of a batch's record time.
        columns = [[values[field.attname] for values in attempts] for field in self.attempt_fields]
        if len(jobs) == 1:
            sql, sent, rows = self.record_one, [ids[0], message_ids[0]], [column[0] for column in columns]
        else:
            sql, sent, rows = self.record_many, [ids, message_ids], columns
        with db.cursor() as cursor:
            cursor.execute(sql, [S.SENDING, S.SENT, now, now, *sent, token, *rows])


_WORKSPACE_FIELD = Notification._meta.get_field("workspace")
_PERSON_FIELD = Notification._meta.get_field("person")


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


class _WorkerIO:
    """The worker process's I/O for batches: one event loop on a thread of its own, and a thread pool.

    Slack webhooks are posted from the loop over one aiohttp keep-alive session per timeout;
    providers without an async client run in the pool. Both start a send at once and hand back
    a ``concurrent.futures.Future``, so the batch's own thread is free to record outcomes (and
    claim more) while sends are under way. Made on first use and again after a fork (a prefork
    child never uses its parent's loop, sockets or threads). The pool has a thread for every
    send a batch may have open, so a claimed message never waits for a thread.
    """

    def __init__(self):
        self.pid: int | None = None
        self.lock = threading.Lock()

    def _ensure(self) -> None:
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.loop = asyncio.new_event_loop()
            self.sessions: dict[float, aiohttp.ClientSession] = {}
            self.tasks: set[asyncio.Task] = set()
            self.executor = ThreadPoolExecutor(max_workers=conf.batch_in_flight(), thread_name_prefix="deliver")
            threading.Thread(target=self.loop.run_forever, name="deliver-io", daemon=True).start()
            self.pid = os.getpid()

    def start(self, jobs: list[_Job], clock: Callable[[], datetime], done: Callable[[_Job], None]) -> None:
        """Starts every job's send at once; ``done(job)`` is called (on an I/O thread) as each ends."""
        if not jobs:
            return
        self._ensure()
        posts = [job for job in jobs if isinstance(job.provider, SlackWebhookProvider)]
        if posts:
            asyncio.run_coroutine_threadsafe(self._post_all(posts, clock, done), self.loop)
        for job in jobs:
            if not isinstance(job.provider, SlackWebhookProvider):
                self.executor.submit(_send, job, clock).add_done_callback(lambda _, job=job: done(job))

    async def _post_all(self, jobs: list[_Job], clock: Callable[[], datetime], done: Callable[[_Job], None]) -> None:
        for job in jobs:
            task = asyncio.create_task(self._post(job, clock))
            self.tasks.add(task)  # the loop keeps only weak references to its tasks
            task.add_done_callback(lambda task, job=job: (self.tasks.discard(task), done(job)))

    async def _session(self, timeout: float) -> aiohttp.ClientSession:
        session = self.sessions.get(timeout)
        if session is None or session.closed:
            # No connection limit: the batches' windows bound the posts open at once, and a post
            # must never wait for a free connection inside its own timeout (a wait would turn a
            # message that was never sent into an "outcome unknown").
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=timeout),
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
                trust_env=False,
            )
            self.sessions[timeout] = session
        return session

    async def _post(self, job: _Job, clock: Callable[[], datetime]) -> None:
        provider = job.provider
        try:
            job.result = await provider.asend(job.message, session=await self._session(provider.timeout))
        except DeliveryError as exc:
            job.error = exc
        except Exception as exc:
            logger.exception("provider %s failed unexpectedly", provider.name)
            job.error = OutcomeUnknown(f"unexpected error: {type(exc).__name__}")
        job.finished_at = clock()

    async def _close_sessions(self) -> None:
        for session in self.sessions.values():
            if not session.closed:
                await session.close()
        self.sessions.clear()

    def close(self) -> None:
        """Closes the sessions at interpreter exit (a killed worker just drops its sockets)."""
        if self.pid != os.getpid():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_sessions(), self.loop).result(timeout=5)


_io = _WorkerIO()
atexit.register(_io.close)


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
    """Writes every job's outcome and queues the retries after commit.

    Successes take one UPDATE and one INSERT of their attempts whatever their number — on
    PostgreSQL a single statement, which needs no transaction of its own when every job
    succeeded (the usual case). Other outcomes: an UPDATE per row, in one transaction with
    everything else.
    """
    outcomes: Counter = Counter()
    sent: list[_Job] = []
    others: list[tuple[_Job, dict, float | None]] = []
    for job in jobs:
        fields, delay = _decide(job, now)
        status = fields["status"]
        outcomes["retry" if status == S.PENDING else status] += 1
        if status == S.SENT:
            sent.append(job)
        else:
            others.append((job, fields, delay))
    if not jobs:
        return outcomes
    db = _sql_connection()
    if db is not None and not others:
        _Statements.of(db).record_sent(db, sent, token=token, now=now)
        return outcomes
    attempts: list[DeliveryAttempt] = []
    retries: list[tuple] = []
    with transaction.atomic():
        for job, fields, delay in others:
            notification = job.notification
            attempts.append(_attempt_row(job, now))
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
            _Statements.of(db).record_sent(db, sent, token=token, now=now)
        elif sent:
            attempts += [_attempt_row(job, now) for job in sent]
            provider_ids = {
                job.notification.pk: job.result.provider_message_id for job in sent if job.result.provider_message_id
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
    for pk, delay in retries:
        enqueue_on_commit([pk], countdown=delay)
    return outcomes


def _attempt_row(job: _Job, now: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(**_attempt_values(job, now))


def _attempt_values(job: _Job, now: datetime) -> dict:
    """The ``DeliveryAttempt`` of this job, by attribute name."""
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
    return {
        "notification_id": job.notification.pk,
        "number": max(1, job.notification.attempts),
        "started_at": job.started_at,
        "finished_at": job.finished_at or now,
        "outcome": outcome,
        "status_code": status_code if status_code is not None and 0 <= status_code < 32768 else None,
        "error": text,
        "provider_message_id": job.result.provider_message_id if job.result is not None else "",
    }
