"""Each person's own time at the bench's size: the idle tick, and a day's greetings planned.

Every person gets a zone of their own (spread over all of the service's IANA zones, by a
hash of their id), every workspace greets in each person's zone, every digest sends personal
greetings. The schedule (``GreetingSchedule``, one row per person with a date) is built with
``scheduling.own_time.schedule_for`` — the function the service's rebuild and the tick use —
and loaded with ``COPY``; the service's own rebuild is timed on a sample of workspaces.

Then: the idle tick (``tick(now=…)`` a minute before anything is due: reminders or greetings),
and one day of greetings (``greetings_tick`` every minute for 24 hours from the first one due),
CPU measured as this process's time. The day runs twice: with the seed's Slack configs
(incoming webhooks, which cannot reach a person, so people who want Slack get no greeting), and
again, its rows put back, with a bot token on each Slack config as a workspace using the Slack
app has (greetings to people who want Slack are direct messages). Afterwards everything is put back as the seed made it
(zones cleared, settings off, rows and the greetings written deleted), so a rerun measures the
same day again.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections import Counter
from datetime import datetime, timedelta

from bench.context import Context, ms_summary
from bench.environment import log
from bench.procs import PostgresCpu

REBUILD_SAMPLE = 50
# The second day's Slack configs: the Slack app's (nothing is sent; delivery is not measured here).
SLACK_APP_TOKEN = "xoxb-bench-own-time"  # noqa: S105 - a stand-in: nothing reaches Slack
SLACK_APP_CHANNEL = "CBENCH0001"


def _set_zones(zones: list[str]) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE workspaces_person SET timezone = (%s::text[])[1 + abs(hashtext(id::text)) %% %s]",
            [zones, len(zones)],
        )
        return cursor.rowcount


def _build_schedule(*, now: datetime) -> dict:
    """Every person's row, from the same function the service uses, loaded by COPY."""
    from django.db.models import Q

    from bench.copying import copy_rows
    from reminders.models import Reminder, ReminderKind
    from scheduling.models import GreetingSchedule
    from scheduling.own_time import calendar_of, greeting_time, schedule_for
    from workspaces.models import Person, Workspace

    workspaces = {w.pk: w for w in Workspace.objects.all()}
    digest_rows = Reminder.objects.filter(kind=ReminderKind.BIRTHDAY_DIGEST).only("workspace_id", "at_time")
    digests = {r.workspace_id: r for r in digest_rows}
    times = {pk: greeting_time(w, digests.get(pk)) for pk, w in workspaces.items()}
    calendars = {pk: calendar_of(w) for pk, w in workspaces.items()}
    fields = ["person_id", "workspace_id", "zone", "local_date", "next_run_at"]

    def rows():
        people = Person.objects.filter(Q(birth_month__isnull=False) | Q(joined_on__isnull=False))
        for person in people.iterator(chunk_size=20_000):
            ws = person.workspace_id
            row = schedule_for(
                person, workspaces[ws], at=times[ws], on_or_after=None, now=now, is_workday=calendars[ws]
            )
            if row is not None:
                yield (person.pk, ws, row.zone, row.local_date, row.next_run_at)

    GreetingSchedule.objects.all().delete()
    started = time.perf_counter()
    computed = list(rows())  # read first: the COPY holds the connection
    computed_in = time.perf_counter() - started
    count = copy_rows(GreetingSchedule, fields, computed)
    return {
        "rows": count,
        "compute_seconds": round(computed_in, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _time_rebuild_sample(*, now: datetime) -> dict:
    """The service's own rebuild (``greeting_schedule_rebuild``) on a sample of workspaces."""
    from scheduling.models import GreetingSchedule
    from scheduling.own_time import greeting_schedule_rebuild
    from workspaces.models import Workspace

    sample = list(Workspace.objects.order_by("pk")[:REBUILD_SAMPLE])
    before = GreetingSchedule.objects.filter(workspace__in=sample).count()
    cpu = time.process_time()
    started = time.perf_counter()
    rows = sum(greeting_schedule_rebuild(workspace=w, now=now) for w in sample)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    return {
        "workspaces": len(sample),
        "rows": rows,
        "rows_before": before,
        "wall_ms_per_workspace": round(wall * 1000 / len(sample), 2),
        "cpu_ms_per_row": round(cpu * 1000 / rows, 3) if rows else None,
    }


def _first_due() -> datetime | None:
    from django.db.models import Min

    from reminders.models import Reminder
    from scheduling.models import GreetingSchedule

    firsts = [
        Reminder.objects.filter(active=True).aggregate(first=Min("next_run_at"))["first"],
        GreetingSchedule.objects.aggregate(first=Min("next_run_at"))["first"],
    ]
    firsts = [f for f in firsts if f is not None]
    return min(firsts) if firsts else None


def _idle_ticks(ctx: Context, *, now: datetime) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.models import GreetingSchedule, JobRun
    from scheduling.own_time_claim import due_greetings
    from scheduling.tick import tick

    job_runs = [tick(now=now).pk for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        job_runs.append(tick(now=now).pk)
    samples: list[float] = []
    for _ in range(ctx.args.idle_runs):
        started = time.perf_counter()
        run = tick(now=now)
        samples.append(time.perf_counter() - started)
        job_runs.append(run.pk)
        if run.due or run.created:
            raise RuntimeError("the idle tick found something due")
    JobRun.objects.filter(pk__in=job_runs).delete()
    # Flat: the same look in the first and the last ten runs.
    first, last = samples[:10], samples[-10:]
    return {
        "now": now.isoformat(),
        "greeting_rows": GreetingSchedule.objects.count(),
        **ms_summary(samples),
        "median_ms_first_10": round(sorted(first)[len(first) // 2] * 1000, 2),
        "median_ms_last_10": round(sorted(last)[len(last) // 2] * 1000, 2),
        "sql_queries_per_tick": len(queries),
        "sql": [query["sql"][:160] for query in queries.captured_queries],
        "greetings_due_query_plan": due_greetings(now=now).order_by("next_run_at")[:500].explain().splitlines()[:3],
    }


def _greetings_day(ctx: Context, *, start: datetime) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from notifications.models import Notification
    from scheduling.models import JobRun
    from scheduling.own_time_firing import greetings_tick

    broker = ctx.broker()
    broker.flushdb()
    real_start = timezone.now()
    statements: Counter = Counter()

    def count_sql(execute, sql, params, many, context):
        statements[sql.split(None, 1)[0].upper() if sql else "?"] += 1
        return execute(sql, params, many, context)

    totals: Counter = Counter()
    busy: list[float] = []
    busy_cpu = 0.0
    profile = cProfile.Profile(time.process_time) if ctx.args.profile else None  # CPU, not wall
    job_runs: list[JobRun] = []
    with PostgresCpu() as postgres, connection.execute_wrapper(count_sql):
        cpu_started = time.process_time()
        wall_started = time.perf_counter()
        now = start
        while now <= start + timedelta(days=1):
            job_run = JobRun(kind=JobRun.Kind.TICK, started_at=now, details={})
            started = time.perf_counter()
            cpu_tick = time.process_time()
            if profile:
                profile.enable()
            fired = greetings_tick(now=now, limit=settings.TICK_BATCH_SIZE, job_run=job_run)
            if profile:
                profile.disable()
            if fired.rows:
                busy.append(time.perf_counter() - started)
                busy_cpu += time.process_time() - cpu_tick
                job_runs.append(job_run)
            totals["ticks"] += 1
            totals["rows"] += fired.rows
            totals["greeted"] += fired.greeted
            totals["created"] += fired.created
            totals["missed"] += fired.missed
            if totals["ticks"] % 240 == 0:
                log(f"  {now:%H:%M} UTC: {totals['rows']} rows fired, {totals['created']} greetings")
            now += timedelta(minutes=1)
        cpu = time.process_time() - cpu_started
        wall = time.perf_counter() - wall_started
        postgres_cpu = postgres.seconds()
    published = broker.llen("celery")
    broker.flushdb()
    JobRun.objects.filter(pk__in=[j.pk for j in job_runs if j.pk]).delete()
    written = Notification.objects.filter(idempotency_key__contains=":greeting-", created_at__gte=real_start)
    by_channel = dict(Counter(written.values_list("channel", flat=True)))
    deleted, _ = written.delete()
    created = totals["created"]
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(45)
        (ctx.workdir / "per_person_time_profile.txt").write_text(out.getvalue())
    return {
        "window_utc": [start.isoformat(), (start + timedelta(days=1)).isoformat()],
        "ticks": totals["ticks"],
        "rows_fired": totals["rows"],
        "people_greeted": totals["greeted"],
        "missed": totals["missed"],
        "notifications_created": created,
        "notifications_by_channel": by_channel,
        "broker_tasks_published": published,
        "process_cpu_seconds": round(cpu, 3),
        "wall_seconds": round(wall, 2),
        "postgres_backend_cpu_seconds": postgres_cpu,
        "planning_cpu_seconds": round(busy_cpu, 3),
        "notifications_per_cpu_second": round(created / busy_cpu, 1) if busy_cpu else None,
        "notifications_per_cpu_second_whole_day": round(created / cpu, 1) if cpu else None,
        "notifications_per_cpu_second_incl_postgres": round(created / (cpu + postgres_cpu), 1) if cpu else None,
        "busy_tick_ms": ms_summary(busy),
        "sql_statements_by_kind": dict(statements.most_common()),
        "greetings_deleted_after": deleted,
    }


def _due_rows(*, start: datetime) -> list:
    """The rows a day from ``start`` fires, as they are before it (to fire the same day again)."""
    from scheduling.models import GreetingSchedule

    return list(GreetingSchedule.objects.filter(next_run_at__lte=start + timedelta(days=1)))


def _put_back(rows: list) -> None:
    from scheduling.models import GreetingSchedule

    GreetingSchedule.objects.filter(person_id__in=[row.person_id for row in rows]).delete()
    GreetingSchedule.objects.bulk_create(rows, batch_size=5_000)


def _slack_app(*, on: bool) -> int:
    """The bench's Slack configs as a workspace using the Slack app has them (a bot token and a
    channel: greetings to people who want Slack are direct messages), or as seeded (a webhook
    only, which cannot send a direct message)."""
    from notifications.models import ChannelConfig

    configs = ChannelConfig.objects.filter(kind="slack")
    if on:
        return configs.update(bot_token=SLACK_APP_TOKEN, channel_id=SLACK_APP_CHANNEL)
    return configs.update(bot_token=None, channel_id="")


def _restore(*, digests_without_greetings: list) -> None:
    from django.db import connection

    from reminders.models import Reminder
    from scheduling.models import GreetingSchedule
    from workspaces.models import Workspace

    GreetingSchedule.objects.all().delete()
    Workspace.objects.update(greet_in_own_zone=False)
    Reminder.objects.filter(pk__in=digests_without_greetings).update(personal_greetings=False)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE workspaces_person SET timezone = '' WHERE timezone <> ''")


def per_person_time(ctx: Context) -> dict:
    """Each person in their own zone, every workspace greeting in them: idle tick and a day's greetings."""
    from django.utils import timezone

    from birthdaybuddy.validators import available_timezones
    from reminders.models import Reminder, ReminderKind
    from workspaces.models import Workspace

    zones = list(available_timezones())
    now = timezone.now()
    plain = Reminder.objects.filter(kind=ReminderKind.BIRTHDAY_DIGEST, personal_greetings=False)
    digests_without_greetings = list(plain.values_list("pk", flat=True))
    timings: dict = {}
    started = time.perf_counter()
    people = _set_zones(zones)
    timings["zones_set_seconds"] = round(time.perf_counter() - started, 1)
    Workspace.objects.update(greet_in_own_zone=True)
    Reminder.objects.filter(pk__in=digests_without_greetings).update(personal_greetings=True)
    try:
        log(f"per_person_time: {people} people over {len(zones)} zones; building the schedule")
        schedule = _build_schedule(now=now)
        log(f"per_person_time: {schedule['rows']} rows in {schedule['seconds']}s")
        rebuild = _time_rebuild_sample(now=now)
        first = _first_due()
        if first is None:
            raise RuntimeError("nothing scheduled")
        idle = _idle_ticks(ctx, now=first - timedelta(minutes=1))
        from django.db.models import Min

        from scheduling.models import GreetingSchedule

        first_greeting = GreetingSchedule.objects.aggregate(first=Min("next_run_at"))["first"]
        start = first_greeting.replace(second=0, microsecond=0)
        rows = _due_rows(start=start)
        log("per_person_time: the day, Slack as seeded (webhooks)")
        day = _greetings_day(ctx, start=start)
        _put_back(rows)
        log("per_person_time: the same day, Slack as the Slack app has it (bot token: direct messages)")
        _slack_app(on=True)
        day_slack_app = _greetings_day(ctx, start=start)
    finally:
        _slack_app(on=False)
        _restore(digests_without_greetings=digests_without_greetings)
    return {
        "people": people,
        "zones": len(zones),
        "setup": {**timings, "schedule_build": schedule},
        "service_rebuild_sample": rebuild,
        "idle_tick": idle,
        "greetings_day": day,
        "greetings_day_slack_app": day_slack_app,
    }
