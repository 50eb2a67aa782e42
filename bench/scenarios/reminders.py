"""Recurring reminders at scale: an idle tick over 100,000 RRULE reminders, and a burst of 10,000 due at once.

Both run on the bench data set with ``--reminders`` recurring reminders seeded on top of it
(``bench/seed_reminders.py``) and removed again when the last reminders scenario of the run is
done, so the other scenarios always see the data set as seeded. The CSV import timing
(``bench/csv_import.py``) is a scenario too, run in a child process against its own database.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

from bench.context import BASE_DIR, Context
from bench.environment import CACHE_DB, log
from bench.procs import PostgresCpu
from bench.scenarios.tick import time_idle_ticks

REMINDER_SCENARIOS = ("reminders_idle_tick", "reminders_burst")


def _seeded(ctx: Context):
    """The seeded reminders of this run (seeded on first use)."""
    from bench import seed_reminders

    seeded = ctx.results.get("reminders_seeded")
    if seeded is None:
        args = ctx.args
        log(f"seeding {args.reminders} recurring reminders ({args.reminders_burst} in the burst)")
        seeded = seed_reminders.seed(count=args.reminders, burst=args.reminders_burst, seed_value=args.seed)
        ctx.results["reminders_seeded"] = seeded
    return seeded


def _finish(ctx: Context, name: str) -> None:
    """Removes the seeded reminders after the run's last reminders scenario."""
    from bench import seed_reminders

    later = ctx.args.scenarios[ctx.args.scenarios.index(name) + 1 :]
    if ctx.args.keep_reminders or any(other in REMINDER_SCENARIOS for other in later):
        return
    started = time.perf_counter()
    removed = seed_reminders.remove()
    ctx.results.pop("reminders_seeded", None)
    log(f"removed the {removed} seeded reminders (and their rows) in {time.perf_counter() - started:.1f}s")


def reminders_idle_tick(ctx: Context) -> dict:
    """``tick(now=…)`` one minute before the burst instant: 100,000 recurring reminders, none due."""
    try:
        return _idle_tick(ctx, _seeded(ctx))
    finally:
        _finish(ctx, "reminders_idle_tick")


def _idle_tick(ctx: Context, seeded) -> dict:
    return {
        **time_idle_ticks(ctx, now=seeded.burst_at - timedelta(minutes=1)),
        "recurring_reminders_seeded": seeded.reminders,
        "seeding": seeded.shape,
    }


def reminders_burst(ctx: Context) -> dict:
    """One ``tick(now=burst minute)`` with ``--reminders-burst`` recurring reminders due in that minute.

    Delivery is not part of it: tasks go to the bench's broker database with no worker and are
    flushed afterwards. Checked afterwards: exactly one notification per (occurrence, recipient),
    every burst reminder moved on to its rule's next occurrence, nothing else taken, and a
    second tick at the same minute writes nothing.
    """
    try:
        return _burst(ctx, _seeded(ctx))
    finally:
        _finish(ctx, "reminders_burst")


def _burst(ctx: Context, seeded) -> dict:
    from django.db import connection
    from django.db.models import Count

    from notifications.models import Notification
    from reminders.models import Reminder
    from scheduling.models import JobRun, Occurrence
    from scheduling.tick import tick

    burst_at = seeded.burst_at
    burst_ids = seeded.burst_ids
    due = Reminder.objects.due(at=burst_at).count()
    if due != len(burst_ids):
        raise RuntimeError(f"{due} reminders due at the burst instant, {len(burst_ids)} seeded for it")
    broker = ctx.broker()
    broker.flushdb()
    sql_statements: Counter = Counter()

    def count_sql(execute, sql, params, many, context):
        sql_statements[sql.split(None, 1)[0].upper() if sql else "?"] += 1
        return execute(sql, params, many, context)

    log(f"burst: tick at {burst_at.isoformat()} with {due} reminders due")
    with PostgresCpu() as postgres, connection.execute_wrapper(count_sql):
        cpu_started = time.process_time()
        wall_started = time.perf_counter()
        run = tick(now=burst_at)
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - wall_started
        postgres_cpu = postgres.seconds()
    published = broker.llen("celery")
    again = tick(now=burst_at)
    broker.flushdb()

    # Checks: one notification per (occurrence, recipient), every reminder moved on, nothing else taken.
    written = Notification.objects.filter(reminder_id__in=burst_ids)
    per_recipient = (
        written.values("reminder_id", "occurrence_date", "recipient").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    per_reminder = dict(written.values_list("reminder_id").annotate(n=Count("id")).order_by())
    wrong_counts = sum(1 for pk, expected in seeded.expected_recipients.items() if per_reminder.get(pk) != expected)
    by_channel = dict(written.values_list("channel").annotate(n=Count("id")).order_by())
    by_status = dict(written.values_list("status").annotate(n=Count("id")).order_by())
    occurrences = dict(
        Occurrence.objects.filter(reminder_id__in=burst_ids).values_list("outcome").annotate(n=Count("id")).order_by()
    )
    not_advanced = 0
    for pk, next_run_at, next_occurrence_at, last_run_at in Reminder.objects.filter(pk__in=burst_ids).values_list(
        "pk", "next_run_at", "next_occurrence_at", "last_run_at"
    ):
        expected = seeded.next_after_burst[pk]
        if next_occurrence_at != expected or next_run_at != expected or last_run_at != burst_at:
            not_advanced += 1
    still_due = Reminder.objects.due(at=burst_at).count()
    JobRun.objects.filter(pk__in=[run.pk, again.pk]).delete()

    created = run.created
    statements = sum(sql_statements.values())
    checks = {
        "reminders_taken": run.due,
        "notifications_expected": sum(seeded.expected_recipients.values()),
        "duplicates_per_occurrence_and_recipient": per_recipient,
        "reminders_with_wrong_message_count": wrong_counts,
        "reminders_not_advanced_to_next_occurrence": not_advanced,
        "still_due_after": still_due,
        "second_tick_created": again.created,
    }
    checks["ok"] = (
        run.due == len(burst_ids)
        and created == checks["notifications_expected"]
        and per_recipient == 0
        and wrong_counts == 0
        and not_advanced == 0
        and still_due == 0
        and again.created == 0
    )
    return {
        "burst_at": burst_at.isoformat(),
        "reminders_due": len(burst_ids),
        "active_reminders": Reminder.objects.filter(active=True).count(),
        "notifications_created": created,
        "notifications_by_channel": by_channel,
        "notifications_by_status": by_status,
        "occurrences": occurrences,
        "broker_tasks_published": published,
        "process_cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "postgres_backend_cpu_seconds": postgres_cpu,
        "notifications_per_cpu_second": round(created / cpu, 1) if cpu else None,
        "notifications_per_wall_second": round(created / wall, 1) if wall else None,
        "notifications_per_cpu_second_incl_postgres": round(created / (cpu + postgres_cpu), 1) if cpu else None,
        "cpu_ms_per_reminder": round(cpu * 1000 / len(burst_ids), 2) if burst_ids else None,
        "sql_statements": statements,
        "sql_statements_by_kind": dict(sql_statements.most_common()),
        "sql_statements_per_reminder": round(statements / len(burst_ids), 2) if burst_ids else None,
        "checks": checks,
        "seeding": seeded.shape,
    }


def csv_import(ctx: Context) -> dict:
    """``python -m bench.csv_import`` (``--csv-rows`` rows) in a child process, on its own database."""
    args = ctx.args
    database_url = args.database_url.rstrip("/") + "_csv"
    argv = [sys.executable, "-m", "bench.csv_import", "--rows", str(args.csv_rows), "--seed", str(args.seed)]
    argv += ["--database-url", database_url, "--redis-url", f"{args.redis_url.rstrip('/')}/{CACHE_DB}"]
    log(f"csv_import: {args.csv_rows} rows (database {database_url.rsplit('/', 1)[-1]})")
    completed = subprocess.run(
        argv, cwd=BASE_DIR, env=ctx.child_env(), capture_output=True, text=True, timeout=900, check=False
    )
    (ctx.workdir / "csv_import.log").write_text(completed.stderr)
    if completed.returncode != 0:
        return {"error": f"csv_import failed with {completed.returncode}", "stderr": completed.stderr[-2000:]}
    return json.loads(completed.stdout)
