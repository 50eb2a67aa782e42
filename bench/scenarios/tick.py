"""The scheduler: an idle tick, and a simulated day of ticks creating every workspace's digest."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta

from bench.context import BASE_DIR, Context, ms_summary, percentile
from bench.environment import log, small_database_url
from bench.procs import PostgresCpu


def _first_due() -> datetime | None:
    from django.db.models import Min

    from reminders.models import Reminder

    return Reminder.objects.filter(active=True).aggregate(first=Min("next_run_at"))["first"]


def time_idle_ticks(ctx: Context, *, now: datetime) -> dict:
    """Times ``tick(now=…)`` when nothing is due at ``now``: 5 warm-up runs, then ``--idle-runs``
    timed ones (at most 2 minutes); their JobRun rows are deleted afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reminders.models import Reminder
    from scheduling.models import JobRun
    from scheduling.tick import tick

    if Reminder.objects.due(at=now).exists():
        raise RuntimeError(f"something is due at {now.isoformat()}")
    job_runs = [tick(now=now).pk for _ in range(5)]  # warm-up: connection, plans, imports
    with CaptureQueriesContext(connection) as queries:
        job_runs.append(tick(now=now).pk)
    samples: list[float] = []
    deadline = time.perf_counter() + 120
    while len(samples) < ctx.args.idle_runs and time.perf_counter() < deadline:
        started = time.perf_counter()
        run = tick(now=now)
        samples.append(time.perf_counter() - started)
        job_runs.append(run.pk)
        if run.due:
            raise RuntimeError(f"the idle tick found {run.due} due reminder(s)")
    JobRun.objects.filter(pk__in=job_runs).delete()
    plan = Reminder.objects.due(at=now).order_by("next_run_at")[:500].explain()
    return {
        "now": now.isoformat(),
        "active_reminders": Reminder.objects.filter(active=True).count(),
        **ms_summary(samples),
        "sql_queries_per_tick": len(queries),
        "sql": [query["sql"][:160] for query in queries.captured_queries],
        "due_query_plan": plan.splitlines()[:3],
    }


def idle_tick(ctx: Context) -> dict:
    """``tick(now=…)`` one minute before the first reminder is due: nothing to do but look."""
    from django.utils import timezone

    first_due = _first_due()
    result = time_idle_ticks(ctx, now=(first_due or timezone.now()) - timedelta(minutes=1))
    if not ctx.args.nested and not ctx.args.no_scale_check:
        result["at_1_100_size"] = _idle_tick_small(ctx)
        small = result["at_1_100_size"]
        if small.get("median_ms"):
            result["median_ratio_full_vs_1_100"] = round(result["median_ms"] / small["median_ms"], 2)
    return result


def _idle_tick_small(ctx: Context) -> dict:
    """The same measurement on a 1/100-size data set in a companion database (a child run)."""
    args = ctx.args
    workspaces = max(1, args.workspaces // 100)
    people = max(workspaces * args.members_per_workspace, args.people // 100)
    argv = [sys.executable, "-m", "bench", "--nested", "--reuse", "--only", "idle_tick"]
    argv += ["--workspaces", str(workspaces), "--people", str(people)]
    argv += ["--members-per-workspace", str(args.members_per_workspace), "--idle-runs", str(args.idle_runs)]
    argv += ["--database-url", small_database_url(args.database_url), "--redis-url", args.redis_url]
    argv += ["--slack-port", str(args.slack_port), "--seed", str(args.seed)]
    log(f"idle_tick at 1/100 size: {workspaces} workspaces, {people} people (database {argv[-7]})")
    completed = subprocess.run(
        argv, cwd=BASE_DIR, env=ctx.child_env(), capture_output=True, text=True, timeout=600, check=False
    )
    sys.stderr.write(completed.stderr[-4000:])
    if completed.returncode != 0:
        return {"error": f"child run failed with {completed.returncode}", "stderr": completed.stderr[-2000:]}
    child = json.loads(completed.stdout)
    measured = child["scenarios"]["idle_tick"]
    return {
        "workspaces": workspaces,
        "people": child["dataset"]["shape"]["people"],
        "database": small_database_url(args.database_url).rsplit("/", 1)[-1],
        **{key: measured.get(key) for key in ("runs", "median_ms", "p95_ms", "min_ms", "max_ms")},
        "sql_queries_per_tick": measured.get("sql_queries_per_tick"),
    }


def simulated_day(ctx: Context) -> dict:
    """Ticks every ``--step-minutes`` over the 24 hours from the first due reminder.

    Delivery is not part of it: the broker is the bench's own Redis db with no worker, and
    is flushed afterwards; the notifications written are then marked ``skipped`` so later
    scenarios (and the sweeper, if anyone ran one) leave them alone.
    """
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from notifications.models import Notification
    from reminders.models import Reminder
    from scheduling.models import JobRun, Occurrence
    from scheduling.tick import tick

    args = ctx.args
    first_due = _first_due()
    if first_due is None:
        raise RuntimeError("no active reminder")
    start = first_due.replace(second=0, microsecond=0)
    end = start + timedelta(days=1)
    step = timedelta(minutes=args.step_minutes)
    broker = ctx.broker()
    broker.flushdb()
    reminders = Reminder.objects.filter(active=True).count()
    real_start = timezone.now()
    budget = args.max_scenario_seconds

    job_runs: list = []
    totals: Counter = Counter()
    busy: list[float] = []
    idle: list[float] = []
    profile = cProfile.Profile() if args.profile else None
    log(f"simulated day {start.isoformat()} → {end.isoformat()} every {args.step_minutes} min, {reminders} reminders")
    truncated = False
    sql_statements = Counter()

    def count_sql(execute, sql, params, many, context):
        sql_statements[sql.split(None, 1)[0].upper() if sql else "?"] += 1
        return execute(sql, params, many, context)

    with PostgresCpu() as postgres, connection.execute_wrapper(count_sql):
        cpu_started = time.process_time()
        wall_started = time.perf_counter()
        if profile:
            profile.enable()
        instants = []
        now = start
        while now < end:
            instants.append(now)
            now += step
        instants.append(end - timedelta(microseconds=1))  # whatever is due before the day ends
        for i, now in enumerate(instants):
            if time.perf_counter() - wall_started > budget:
                truncated = True
                break
            started = time.perf_counter()
            run = tick(now=now)
            elapsed = time.perf_counter() - started
            (busy if run.due else idle).append(elapsed)
            job_runs.append(run.pk)
            totals["ticks"] += 1
            totals["due"] += run.due
            totals["created"] += run.created
            totals["missed"] += run.missed
            if i % 120 == 0:
                log(f"  {now:%H:%M} UTC: {totals['due']} digests due, {totals['created']} notifications")
        if profile:
            profile.disable()
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - wall_started
        postgres_cpu = postgres.seconds()

    published = broker.llen("celery")
    broker.flushdb()
    outcomes = dict(
        Occurrence.objects.filter(job_run_id__in=job_runs).values_list("outcome").annotate(n=Count("id")).order_by()
    )
    fired_reminders = Occurrence.objects.filter(job_run_id__in=job_runs).values("reminder_id").distinct().count()
    written = Notification.objects.filter(reminder__isnull=False, created_at__gte=real_start)
    by_channel = dict(written.values_list("channel").annotate(n=Count("id")).order_by())
    skipped = written.filter(status="pending").update(
        status="skipped", last_error="bench: written by the simulated day, not delivered", updated_at=timezone.now()
    )
    JobRun.objects.filter(pk__in=job_runs, due=0).delete()  # keep the job runs that did something

    created = totals["created"]
    statements = sum(sql_statements.values())
    fired = outcomes.get(Occurrence.Outcome.FIRED, 0)
    result = {
        "window_utc": [start.isoformat(), end.isoformat()],
        "step_minutes": args.step_minutes,
        "ticks": totals["ticks"],
        "truncated_by_time_budget": truncated,
        "reminders": reminders,
        "digests_due": totals["due"],
        "reminders_processed": fired_reminders,
        "occurrences": outcomes,
        "notifications_created": created,
        "notifications_by_channel": by_channel,
        "notifications_per_fired_digest": round(created / fired, 2) if fired else None,
        "broker_tasks_published": published,
        "process_cpu_seconds": round(cpu, 2),
        "wall_seconds": round(wall, 2),
        "postgres_backend_cpu_seconds": postgres_cpu,
        "notifications_per_cpu_second": round(created / cpu, 1) if cpu else None,
        "notifications_per_wall_second": round(created / wall, 1) if wall else None,
        "notifications_per_cpu_second_incl_postgres": round(created / (cpu + postgres_cpu), 1) if cpu else None,
        "cpu_ms_per_digest_due": round(cpu * 1000 / totals["due"], 2) if totals["due"] else None,
        "sql_statements": statements,
        "sql_statements_by_kind": dict(sql_statements.most_common()),
        "sql_statements_per_digest_due": round(statements / totals["due"], 1) if totals["due"] else None,
        "busy_tick_ms": {
            "count": len(busy),
            "median": round(percentile([b * 1000 for b in busy], 50) or 0, 1),
            "p95": round(percentile([b * 1000 for b in busy], 95) or 0, 1),
            "max": round(max(busy) * 1000, 1) if busy else None,
        },
        "idle_tick_ms_median": round(percentile([b * 1000 for b in idle], 50) or 0, 2),
        "notifications_marked_skipped_after": skipped,
    }
    if profile:
        path = ctx.workdir / "simulated_day.prof"
        profile.dump_stats(path)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        (ctx.workdir / "simulated_day_profile.txt").write_text(out.getvalue())
        result["profile"] = str(path)
        log(f"profile written to {path}")
    return result
