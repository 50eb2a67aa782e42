"""Delivery throughput: pending Slack notifications through a real Celery worker to the fake Slack.

The worker is ``celery -A birthdaybuddy worker --pool=prefork -c 2`` with the project's
settings (``acks_late``, ``reject_on_worker_lost``, ``CELERY_DB_REUSE_MAX``) and the rate
limit off (``NOTIFICATIONS_RATE_LIMIT_ENABLED=False``). Posts go through slack-sdk
(``WebhookClient`` per message, ``AsyncWebhookClient`` over one aiohttp session per worker
process in batches) to ``bench.fake_slack``, which counts each text.

The worker is started and answers a ping before anything is queued. ``--delivery-mode
prequeued`` (default): its consumer is paused, the whole backlog is queued, and timing starts
when the consumer resumes; ``live``: timing starts when the bench process starts queuing
(after the rows are committed), so queuing competes with the worker for the two cores, as
after a real tick. Either way it ends at the last ``sent_at``; the window from the first
claim to the last ``sent_at`` is reported beside it.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from bench.context import BASE_DIR, Context, wait_until
from bench.environment import log
from bench.procs import Child, PostgresCpu


def _wait_ready(app, name: str, worker: Child, timeout: float = 60) -> float:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if not worker.alive:
            raise RuntimeError(f"the worker exited:\n{worker.tail()}")
        if app.control.ping(destination=[name], timeout=0.5):
            return time.monotonic() - started
    raise RuntimeError(f"the worker did not answer a ping within {timeout:g}s:\n{worker.tail()}")


def _workspace_ids(count: int) -> list:
    from notifications.models import ChannelConfig

    return list(
        ChannelConfig.objects.filter(kind="slack", active=True)
        .order_by("workspace_id")
        .values_list("workspace_id", flat=True)[:count]
    )


def run_delivery(ctx: Context, *, label: str, messages: int, prefetch: int, threshold: int, size: int) -> dict:
    from django.conf import settings
    from django.db import connection, transaction
    from django.db.models import Max, Min

    from birthdaybuddy.celery import app
    from notifications.models import DeliveryAttempt, Notification
    from notifications.services import notifications_enqueue, notifications_write

    # The process that queues decides per message or batches (notifications.queueing.dispatch).
    settings.NOTIFICATIONS_BATCH_THRESHOLD = threshold
    settings.NOTIFICATIONS_BATCH_SIZE = size
    ctx.ensure_fake_slack()
    ctx.slack_reset()
    broker = ctx.broker()
    broker.flushdb()

    hostname = f"bench{os.getpid()}-{label}@{socket.gethostname()}"
    argv = [sys.executable, "-m", "celery", "-A", "birthdaybuddy", "worker", "--pool=prefork"]
    argv += [f"--concurrency={ctx.args.worker_concurrency}"]
    argv += [f"--prefetch-multiplier={prefetch}", "--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    argv += ["-n", hostname]
    env = ctx.child_env(NOTIFICATIONS_BATCH_THRESHOLD=str(threshold), NOTIFICATIONS_BATCH_SIZE=str(size))
    worker = Child(f"worker-{label}", argv, env=env, log_path=ctx.workdir / f"worker-{label}.log", cwd=BASE_DIR)
    try:
        ready_seconds = _wait_ready(app, hostname, worker)
        log(f"{label}: worker ready in {ready_seconds:.1f}s; writing {messages} notifications")
        workspaces = _workspace_ids(messages)
        tag = uuid.uuid4().hex[:10]
        prefix = f"bench:{tag}:"
        rows = [
            Notification(
                workspace_id=workspaces[i % len(workspaces)],
                channel="slack",
                recipient="webhook",
                body=f"bench {tag} {i:07d}: 🎂 Today: Ana Lima, Bo Chen",
                idempotency_key=f"{prefix}{i}",
            )
            for i in range(messages)
        ]
        with transaction.atomic():
            ids = notifications_write(notifications=rows)
        # Earlier runs leave dead row versions behind faster than autovacuum clears them; the
        # planner should see this backlog as it is (as autovacuum would let it in production).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE notifications_notification")
            cursor.execute("VACUUM ANALYZE notifications_deliveryattempt")
        # Polled while the worker runs: by primary key, so the poll stays cheap beside it (a
        # prefix match on the key would scan the table: no pattern index, nothing else needs one).
        open_rows = Notification.objects.filter(pk__in=ids, status__in=("pending", "sending"))

        prequeued = ctx.args.delivery_mode == "prequeued"
        publish_seconds = None
        if prequeued:
            # The worker stops consuming while the whole backlog is queued, then takes it at once:
            # its throughput alone, without the publisher's CPU on the same two cores.
            app.control.cancel_consumer("celery", destination=[hostname], reply=True, timeout=5)
            started = time.perf_counter()
            notifications_enqueue(notification_ids=ids)
            publish_seconds = time.perf_counter() - started
            log(f"{label}: {broker.llen('celery')} tasks queued in {publish_seconds:.1f}s; worker resumes")
        with PostgresCpu() as postgres:
            wal_start = _wal_lsn()
            worker_cpu = worker.cpu_seconds()
            slack_cpu = ctx.fake_slack.cpu_seconds()
            started_at = datetime.now(tz=UTC)
            started = time.perf_counter()
            if prequeued:
                app.control.add_consumer("celery", destination=[hostname], reply=True, timeout=5)
            else:
                notifications_enqueue(notification_ids=ids)  # outside a transaction: queued right now
                publish_seconds = time.perf_counter() - started
            timeout = min(600.0, max(60.0, messages / 25))
            finished = wait_until(lambda: not open_rows.exists(), timeout=timeout, interval=0.25)
            polled_seconds = time.perf_counter() - started
            worker_cpu = worker.cpu_seconds() - worker_cpu
            slack_cpu = ctx.fake_slack.cpu_seconds() - slack_cpu
            postgres_cpu = postgres.seconds()
            wal_bytes = _wal_bytes_since(wal_start)

        mine = Notification.objects.filter(idempotency_key__startswith=prefix)
        statuses = Counter(mine.values_list("status", flat=True))
        errors = Counter(mine.exclude(status="sent").values_list("last_error", flat=True))
        window = mine.aggregate(last_sent=Max("sent_at"))
        first_claim = DeliveryAttempt.objects.filter(notification__idempotency_key__startswith=prefix).aggregate(
            first=Min("started_at")
        )["first"]
        attempts = DeliveryAttempt.objects.filter(notification__idempotency_key__startswith=prefix).count()
        stats = ctx.slack_stats()
        mine_text = f"bench {tag} "
        received = {text: count for text, count in stats["counts"].items() if text.startswith(mine_text)}
        sent = statuses.get("sent", 0)
        last_sent = window["last_sent"]
        end_to_end = (last_sent - started_at).total_seconds() if last_sent else None
        worker_window = (last_sent - first_claim).total_seconds() if last_sent and first_claim else None
        result = {
            "label": label,
            "worker": {
                "command": "celery -A birthdaybuddy worker " + " ".join(argv[argv.index("worker") + 1 :]),
                "acks_late": settings.CELERY_TASK_ACKS_LATE,
                "reject_on_worker_lost": settings.CELERY_TASK_REJECT_ON_WORKER_LOST,
                "db_reuse_max": getattr(settings, "CELERY_DB_REUSE_MAX", None),
                "rate_limit_enabled": os.environ.get("NOTIFICATIONS_RATE_LIMIT_ENABLED"),
            },
            "mode": ctx.args.delivery_mode,
            "messages": messages,
            "prefetch_multiplier": prefetch,
            "batch_threshold": threshold,
            "batch_size": size,
            "all_done_in_time": finished,
            "statuses": dict(statuses),
            "left_pending": statuses.get("pending", 0) + statuses.get("sending", 0),
            "errors": dict(errors.most_common(5)),
            "delivery_attempts": attempts,
            "slack_posts_received": sum(received.values()),
            "slack_distinct_messages": len(received),
            "duplicates": sum(count - 1 for count in received.values() if count > 1),
            "missing_at_slack": messages - len(received),
            "publish_seconds": round(publish_seconds, 2) if publish_seconds is not None else None,
            "seconds_end_to_end": round(end_to_end, 2) if end_to_end else None,
            "messages_per_second": round(sent / end_to_end, 1) if end_to_end else None,
            "seconds_worker_window": round(worker_window, 2) if worker_window else None,
            "messages_per_second_worker_window": round(sent / worker_window, 1) if worker_window else None,
            "polled_seconds": round(polled_seconds, 2),
            "cpu_seconds": {
                "worker_group": round(worker_cpu, 2),
                "postgres_backends": postgres_cpu,
                "fake_slack": round(slack_cpu, 2),
            },
            "worker_cpu_ms_per_message": round(worker_cpu * 1000 / sent, 2) if sent else None,
            # Everything PostgreSQL wrote while the worker delivered (claims, records, attempts,
            # their indexes; plus whatever else ran, e.g. autovacuum): the write cost per message.
            "postgres_wal_bytes_per_message": round(wal_bytes / sent) if sent else None,
        }
        log(
            f"{label}: {sent}/{messages} sent, {result['messages_per_second']} msg/s end to end, "
            f"{result['duplicates']} duplicates, {result['left_pending']} left, "
            f"{result['postgres_wal_bytes_per_message']} WAL bytes per message"
        )
        return result
    finally:
        worker.stop()
        broker.flushdb()


def _wal_lsn() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        return cursor.fetchone()[0]


def _wal_bytes_since(lsn: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", [lsn])
        return int(cursor.fetchone()[0])


def delivery_per_message(ctx: Context) -> dict:
    """One ``notifications.deliver`` task per message (batch threshold out of reach)."""
    variants = [
        run_delivery(
            ctx,
            label=f"per-message-prefetch{prefetch}",
            messages=ctx.args.messages,
            prefetch=prefetch,
            threshold=10**9,
            size=50,
        )
        for prefetch in ctx.args.prefetch
    ]
    return {"variants": variants}


def delivery_batched(ctx: Context) -> dict:
    """``notifications.deliver_batch`` tasks of ``size`` ids (from ``threshold`` ids queued at once)."""
    variants = [
        run_delivery(
            ctx,
            label=f"batched-{size}",
            messages=ctx.args.batch_messages,
            prefetch=ctx.args.prefetch[0],
            threshold=min(50, size),
            size=size,
        )
        for size in ctx.args.batch_sizes
    ]
    return {"variants": variants}
