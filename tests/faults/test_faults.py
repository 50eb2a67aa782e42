"""Faults cost nothing (issue 17): a database restart, a killed worker or a hung webhook lose no
message and double none.

Each test runs the real thing against private services (``bench/faults/``): a PostgreSQL
cluster of its own on 25432 and ``redis-server`` on 26379 (never the shared ones), ``celery -A
birthdaybuddy worker --pool=prefork --concurrency=4`` and ``celery -A birthdaybuddy beat`` with the
database scheduler, configured through the environment only. Slack is ``bench.fake_slack``
(every answer 0.5 s late, like a slow webhook, so a batch of 200 is mid-way when the fault
lands); email goes to an SMTP server that logs each message. The load is written and queued
as a tick does (``notifications_write`` + ``notifications_enqueue``: batches of 200).

Configuration, not intervention: the beat entries ``scheduling.tick`` and ``notifications.sweep``
run every 2 s (their interval set in the private database before beat starts), and the engine
gets ``NOTIFICATIONS_CLAIM_LEASE_SECONDS=3``, ``NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS=3``,
``SLACK_TIMEOUT_SECONDS=2`` and ``EMAIL_TIMEOUT=2``. Nothing touches the rows, the queue or the
processes during a fault except the fault itself (and, after a kill or a stop, a new worker, as
compose's restart policy or a deploy would start one).

What every test asserts (``bench.faults.problems``): no message lost, none left pending or
sending; every duplicate was a provider call in flight at the fault (its first post answered
less than 0.2 s before the fault began, or later; after a kill, also a row the dead worker
held in ``sending``) and is marked on its row (``retried_after_unknown``); delivery resumes
and the last message goes out within 30 s of the fault's end; beat and the worker survive
(only the killed or stopped worker is replaced).
"""

import pytest

from bench import faults

pytestmark = pytest.mark.slow

BOUND = faults.SHORT.recovery_bound_seconds


def check(harness, record, name: str, kind: str, workload: faults.Workload) -> dict:
    figures = faults.run_fault(harness, kind, workload, label=name.replace("_", "-"))
    record(name, figures)
    found = faults.problems(figures, bound_seconds=BOUND)
    assert found == [], f"{kind}: " + "; ".join(found)
    return figures


def test_database_restart_while_idle_then_digests_fall_due(harness, record):
    """GIVEN the worker and beat idle (ticks and sweeps every 2 s succeeding) and 300 workspaces
    whose digest (a birthday today; 60 of them with a member wanting the email digest) falls
    due 5 s after the database will be back
    WHEN PostgreSQL stops (fast shutdown) for 10 s and starts again — no process is restarted
    THEN the tick creates every digest (300 Slack + 60 email) and each is delivered exactly once,
    within 30 s of falling due."""
    figures = check(
        harness,
        record,
        "db_restart_idle",
        "db_restart_idle",
        faults.Workload(slack=300, emails=60, db_down_seconds=10),
    )
    assert figures["notes"]["ticks_before_fault"] > 0
    assert figures["rows"] == 360


def test_database_restart_mid_delivery(harness, record):
    """GIVEN 600 Slack digests and 60 emails queued (4 batches), 60 % of the Slack posts received
    WHEN PostgreSQL stops (fast shutdown: every connection closed) for 10 s and starts again
    THEN nothing is lost or stuck, only posts in flight at the stop may arrive twice (marked),
    and the same worker finishes within 30 s of the restart."""
    check(harness, record, "db_restart_mid", "db_restart_mid", faults.Workload(slack=600, emails=60))


def test_sigkill_of_the_pool_children_mid_batch(harness, record):
    """GIVEN 600 Slack digests and 60 emails being delivered by 4 prefork children
    WHEN every pool child is SIGKILLed (OOM killer style) with 60 % of the Slack posts received
    THEN the main process's new children and the sweeper finish the work: duplicates only of
    the calls in flight at the kill, each marked, nothing lost, done within 30 s."""
    check(harness, record, "kill_children", "kill_children", faults.Workload(slack=600, emails=60))


def test_sigkill_of_the_whole_worker_mid_batch(harness, record):
    """GIVEN 600 Slack digests and 60 emails being delivered
    WHEN the worker's main process and its children are SIGKILLed together, and a new worker
    starts at once (compose's restart policy)
    THEN the new worker and the sweeper finish: duplicates only of calls in flight, marked,
    nothing lost, done within 30 s of the new worker being ready."""
    check(harness, record, "kill_main", "kill_main", faults.Workload(slack=600, emails=60))


def test_sigterm_mid_batch_is_a_clean_handover(harness, record):
    """GIVEN 600 Slack digests and 60 emails being delivered
    WHEN the worker gets SIGTERM (a deploy: Celery's warm shutdown, 60 s grace) and a new
    worker starts once it has exited
    THEN no message arrives twice, none is lost, and the rest goes out within 30 s."""
    figures = check(harness, record, "sigterm", "sigterm", faults.Workload(slack=600, emails=60))
    assert figures["duplicates"] == 0
    assert not figures["notes"]["killed_after_grace"]


def test_broker_restart_mid_delivery(harness, record):
    """GIVEN 1,000 Slack digests and 100 emails queued (6 batches: 4 running, 2 waiting in Redis)
    WHEN Redis (broker and cache, no persistence) shuts down without saving once 30 % of the
    Slack posts were received, and starts again empty 5 s later
    THEN the batches the broker forgot are queued again by the sweeper, nothing is lost or
    stuck, duplicates only of calls in flight, and all is delivered within 30 s of the restart."""
    check(
        harness,
        record,
        "broker_restart",
        "broker_restart",
        faults.Workload(slack=1_000, emails=100, trigger=0.3, broker_down_seconds=5),
    )


def test_a_hung_webhook_delays_only_its_own_message(harness, record):
    """GIVEN 600 Slack digests and 60 emails, one Slack message of the second batch to a webhook
    that answers only after 10 s (past the 2 s client timeout) the first time
    WHEN the batch is delivered
    THEN its batch-mates are recorded ``sent`` within 0.75 s of their own answer (not when the
    hung call gives up), the hung message is retried once and marked as possibly doubled, and
    nothing else arrives twice."""
    figures = check(harness, record, "hung_webhook", "hung_webhook", faults.Workload(slack=600, emails=60))
    hung = figures["hung"]
    assert hung["batch_mates_sent"] == hung["batch_size"] - 1
    assert hung["hung_message_status"] == "sent"
