"""Lateness: from a reminder's due instant to the provider call, through beat, the tick and a worker.

The whole running service does the work: ``celery beat`` with the database scheduler (the tick's
crontab fires at second 0 of every minute, as migrated), a prefork ``celery worker`` as
docker-compose.yml runs it (``--concurrency 4``), and the fake Slack, which stamps each post as
it reads it. One-time reminders to the workspaces' Slack channels are written ahead of time,
due on whole minutes:

- **idle**: ``--lateness-idle-per-minute`` reminders due on each of ``--lateness-idle-minutes``
  minutes (each in another workspace), nothing else happening;
- **burst**: ``--reminders-burst`` reminders due on one minute, after the idle ones.

Each message's lateness is the fake Slack's receipt of its post minus its reminder's due
instant (the provider call, less the one loopback hop). Reported per phase: p50, p99, max,
and when the tick of each due minute started (beat's share). Before the processes start, the
data set's overdue digests are caught up in process and set aside (``skipped``), so the idle
phase measures an idle service; everything written is removed afterwards.
"""

from __future__ import annotations

import math
import os
import socket
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.context import BASE_DIR, Context, percentile, wait_until
from bench.environment import log
from bench.procs import Child

NAME_PREFIX = "Bench lateness"
TARGET_IDLE_P99_SECONDS = 3.0


def _stats(values: list[float]) -> dict:
    return {
        "messages": len(values),
        "p50_seconds": round(percentile(values, 50), 3) if values else None,
        "p99_seconds": round(percentile(values, 99), 3) if values else None,
        "max_seconds": round(max(values), 3) if values else None,
        "min_seconds": round(min(values), 3) if values else None,
    }


def _catch_up() -> dict:
    """Runs the tick now until nothing is due, and sets what it wrote aside (no worker is running)."""
    from notifications.models import Notification, NotificationStatus
    from reminders.models import Reminder
    from scheduling.tick import tick

    started = datetime.now(tz=UTC)
    created = 0
    while Reminder.objects.due(at=datetime.now(tz=UTC)).exists():
        created += tick().created
    set_aside = Notification.objects.filter(
        created_at__gte=started, status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING)
    ).update(status=NotificationStatus.SKIPPED, last_error="bench: set aside before the lateness run")
    return {"notifications_written": created, "set_aside": set_aside}


def _write_reminders(due: list[tuple[datetime, int]], tag: str) -> dict[str, datetime]:
    """``count`` one-time reminders due at each instant, one workspace each; returns text → due instant.

    One reminder goes through ``reminder_create`` (so the row is what the service writes); the
    others are copies of it with their own workspace, text and instant.
    """
    from notifications.models import ChannelConfig
    from reminders import services
    from reminders.models import Reminder
    from workspaces.models import Workspace

    workspace_ids = list(
        ChannelConfig.objects.filter(kind="slack", active=True)
        .order_by("workspace_id")
        .values_list("workspace_id", flat=True)
    )
    first_at = due[0][0]
    prototype = services.reminder_create(
        workspace=Workspace.objects.get(pk=workspace_ids[0]),
        data={
            "kind": "one_time",
            "name": f"{NAME_PREFIX} prototype",
            "audience": "workspace_channel",
            "channels": ["slack"],
            "message": "prototype",
            "run_at": first_at + timedelta(days=365),
        },
    )
    fields = [field for field in Reminder._meta.concrete_fields if not field.primary_key]
    values = {field.attname: getattr(prototype, field.attname) for field in fields}
    texts: dict[str, datetime] = {}
    rows = []
    index = 0
    for at, count in due:
        for _ in range(count):
            text = f"lateness {tag} {index:06d}"
            texts[text] = at
            rows.append(
                Reminder(
                    **{
                        **values,
                        "id": uuid.uuid4(),
                        "workspace_id": workspace_ids[index % len(workspace_ids)],
                        "name": f"{NAME_PREFIX} {index}",
                        "message": text,
                        "run_at": at,
                        "next_run_at": at,
                        "next_occurrence_at": at,
                    }
                )
            )
            index += 1
    prototype.delete()
    Reminder.objects.bulk_create(rows, batch_size=2_000)
    return texts


def _remove(tag: str) -> int:
    from notifications.models import Notification
    from reminders.models import Reminder

    reminders = Reminder.objects.filter(name__startswith=NAME_PREFIX)
    Notification.objects.filter(reminder__in=reminders).delete()
    return reminders.delete()[0]


def _start(ctx: Context, name: str, argv: list[str]) -> Child:
    argv = [sys.executable, "-m", "celery", "-A", "birthdaybuddy", *argv]
    return Child(name, argv, env=ctx.child_env(), log_path=ctx.workdir / f"{name}.log", cwd=BASE_DIR)


def reminder_lateness(ctx: Context) -> dict:
    from django.db.models import Min

    from birthdaybuddy.celery import app
    from scheduling.models import JobRun

    args = ctx.args
    ctx.ensure_fake_slack()
    ctx.slack_reset()
    broker = ctx.broker()
    broker.flushdb()
    caught_up = _catch_up()
    broker.flushdb()
    log(f"lateness: caught up before the run: {caught_up}")

    hostname = f"bench{os.getpid()}-lateness@{socket.gethostname()}"
    pool = ["--pool=prefork", f"--concurrency={args.worker_concurrency}", "--without-gossip", "--without-mingle"]
    worker = _start(ctx, "lateness-worker", ["worker", *pool, "--loglevel=WARNING", "-n", hostname])
    beat = None
    tag = uuid.uuid4().hex[:8]
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if not worker.alive or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not answer a ping:\n{worker.tail()}")
        now = datetime.now(tz=UTC)
        # The first due minute leaves time to write the rows and for beat to start.
        first = datetime.fromtimestamp(math.ceil((now.timestamp() + 45) / 60) * 60, tz=UTC)
        idle_minutes, per_minute = args.lateness_idle_minutes, args.lateness_idle_per_minute
        burst = args.reminders_burst
        idle_due = [(first + timedelta(minutes=m), per_minute) for m in range(idle_minutes)]
        burst_at = first + timedelta(minutes=idle_minutes + 1)
        texts = _write_reminders([*idle_due, (burst_at, burst)], tag)
        log(f"lateness: {len(texts)} reminders; idle from {first:%H:%M:%S}, {burst} due at {burst_at:%H:%M:%S}")
        scheduler = "--scheduler=django_celery_beat.schedulers:DatabaseScheduler"
        beat = _start(ctx, "lateness-beat", ["beat", "--loglevel=WARNING", scheduler])

        def received() -> int:
            counts = ctx.slack_stats()["counts"]
            return sum(1 for text in texts if text in counts)

        remaining = (burst_at - datetime.now(tz=UTC)).total_seconds()
        done = wait_until(lambda: received() >= len(texts), timeout=remaining + 600, interval=1.0)
        stats = ctx.slack_stats()
    finally:
        if beat is not None:
            beat.stop()
        worker.stop()
        broker.flushdb()

    firsts = stats["times"]
    idle_at = {at for at, _ in idle_due}
    late = {"idle": [], "burst": []}
    missing = 0
    for text, at in texts.items():
        if text not in firsts:
            missing += 1
            continue
        late["idle" if at in idle_at else "burst"].append(firsts[text][0] - at.timestamp())
    duplicates = sum(stats["counts"][text] - 1 for text in texts if stats["counts"].get(text, 0) > 1)
    ticks = {}
    for at in [*sorted(idle_at), burst_at]:
        started = JobRun.objects.filter(started_at__gte=at, started_at__lt=at + timedelta(minutes=1)).aggregate(
            first=Min("started_at")
        )["first"]
        ticks[at.isoformat()] = round((started - at).total_seconds(), 3) if started else None
    removed = _remove(tag)
    idle = _stats(late["idle"])
    result = {
        "idle": {**idle, "due_minutes": idle_minutes, "per_minute": per_minute},
        "burst": {**_stats(late["burst"]), "due_at": burst_at.isoformat(), "reminders": burst},
        "tick_started_after_due_seconds": ticks,
        "all_received": done,
        "missing": missing,
        "duplicates": duplicates,
        "caught_up_before": caught_up,
        "reminders_removed": removed,
        "worker": f"celery worker --pool=prefork --concurrency={args.worker_concurrency}",
        "target": f"idle p99 < {TARGET_IDLE_P99_SECONDS:g} s",
        "met": idle["p99_seconds"] is not None and idle["p99_seconds"] < TARGET_IDLE_P99_SECONDS and not missing,
    }
    log(f"lateness: idle p50 {idle['p50_seconds']} s, p99 {idle['p99_seconds']} s; burst {result['burst']}")
    return result
