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
transaction with an UPDATE per row), and so does everything on SQLite (``sql_connection``;
``NOTIFICATIONS_DELIVERY_SQL=False`` forces it).

The package, by step: ``claim.py`` (claim and prepare), ``sql.py`` (the two PostgreSQL
statements beside their ORM meaning), ``sending.py`` (provider I/O), ``outcome.py`` (decide and
record), ``batch.py`` (the window), ``sweep.py`` (what Celery lost).
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from notifications import conf, leases
from notifications.delivery.batch import deliver_batch
from notifications.delivery.claim import claim, prepare, requeue_early
from notifications.delivery.common import clock_of, while_database_returns
from notifications.delivery.outcome import record, retry_delay
from notifications.delivery.sending import send
from notifications.delivery.sweep import sweep

__all__ = ["deliver_batch", "deliver_one", "retry_delay", "sweep"]


def deliver_one(*, notification_id, now: datetime | None = None) -> str:
    """Delivers one notification; returns what happened ("sent", "retry", "failed", …, "ignored").

    On PostgreSQL a message that goes out costs two statements, each its own transaction:
    the claim (which also reads everything the send needs) and the record of the success.
    """
    clock = clock_of(now)
    started = clock()
    token = uuid.uuid4()
    with leases.held(token):
        claimed, configs = claim([notification_id], now=started, token=token)
        if not claimed:
            return "not_due" if requeue_early([notification_id], now=started) else "ignored"
        jobs, outcomes = prepare(claimed, configs=configs, token=token, now=started)
        for job in jobs:
            if job.error is None:
                send(job, clock)
        deadline = time.monotonic() + conf.database_retry_seconds()
        outcomes.update(while_database_returns(lambda: record(jobs, token=token, now=clock()), deadline))
    return next(iter(outcomes))
