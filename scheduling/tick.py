"""The beat tick: due reminders become notifications, once.

The tick claims due reminders with ``SELECT … FOR NO KEY UPDATE SKIP LOCKED``, writes their
notifications (unique idempotency keys) in the same transaction that advances
``next_run_at``, and queues delivery after commit. Running the same occurrence again —
a second tick, a second beat, ``run-now`` racing the tick — creates nothing. When each
reminder fires is the reminders app's (``reminders/schedule.py``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from notifications.services import notifications_enqueue
from reminders import schedule, slots
from reminders.models import Reminder
from scheduling.firing import Step, fire
from scheduling.models import JobRun, Occurrence
from scheduling.own_time_firing import greetings_tick

logger = logging.getLogger(__name__)

# After a long outage, at most this many past occurrences of one reminder are looked at
# (each recorded as fired or missed); the rest are skipped in one step and counted.
MAX_CATCH_UP = 50


def _due_steps(*, reminder: Reminder, now: datetime, job_run: JobRun) -> list[Step]:
    """The occurrences of a due reminder to settle now; advances its schedule in memory (not saved)."""
    steps: list[Step] = []
    if not slots.schedulable(reminder):
        # The event was cancelled after this reminder was scheduled: nothing is sent.
        logger.info("reminder %s: its event is cancelled; unscheduled", reminder.pk)
        schedule.set_schedule(reminder, None)
        return steps
    instant = schedule.pending_instant(reminder)
    slot = schedule.reminder_slot_at(reminder=reminder, instant=instant) if instant is not None else None
    truncated = False
    while slot is not None:
        due = schedule.reminder_due_at(reminder=reminder, slot=slot)
        if due > now:
            break
        if len(steps) >= MAX_CATCH_UP:
            truncated = True
            slot = schedule.reminder_next_slot(reminder=reminder, after=now)
            continue  # lies after now: the loop ends on it
        nxt = schedule.reminder_next_slot(reminder=reminder, after=slot.at)
        if schedule.is_missed(reminder=reminder, slot=slot, now=now):
            steps.append(Step(reminder=reminder, slot=slot, outcome=Occurrence.Outcome.MISSED))
            logger.warning("reminder %s: occurrence %s missed (due %s)", reminder.pk, slot.local, due.isoformat())
        elif due != slot.at and nxt is not None and schedule.reminder_due_at(reminder=reminder, slot=nxt) == due:
            # Several occurrences held back by the same quiet hours go out once, as the latest.
            steps.append(Step(reminder=reminder, slot=slot, outcome=Occurrence.Outcome.MISSED))
            job_run.details.setdefault("quiet_hours_merged", []).append(f"{reminder.pk}@{slot.local.isoformat()}")
        else:
            steps.append(Step(reminder=reminder, slot=slot, outcome=Occurrence.Outcome.FIRED))
        slot = nxt
    if truncated:
        job_run.details.setdefault("catch_up_truncated", []).append(str(reminder.pk))
    schedule.set_schedule(reminder, slot)
    reminder.last_run_at = now
    return steps


SCHEDULE_FIELDS = ("next_run_at", "next_occurrence_at", "last_run_at")


def save_schedules_orm(reminders: list[Reminder]) -> None:
    """What ``save_schedules`` does, with the ORM (and what SQLite runs)."""
    stamp = timezone.now()
    for reminder in reminders:
        reminder.updated_at = stamp
    Reminder.objects.bulk_update(reminders, [*SCHEDULE_FIELDS, "updated_at"])


def save_schedules(reminders: list[Reminder]) -> None:
    """Writes the batch's advanced schedules with one UPDATE.

    On PostgreSQL the new values travel as arrays (``UPDATE … FROM unnest(…)``): four
    parameters whatever the batch size, where ``bulk_update`` builds a CASE expression per
    row and field. Elsewhere (the embedded SQLite default) ``save_schedules_orm`` does the job;
    ``tests/platform/test_fast_paths.py`` holds the two to the same rows.
    """
    # Buys: bulk_update's CASE expressions had cost a third of the tick's batch (bench/RESULTS.md, round 2).
    if connection.vendor != "postgresql":
        save_schedules_orm(reminders)
        return
    stamp = timezone.now()
    for reminder in reminders:
        reminder.updated_at = stamp
    meta = Reminder._meta
    table = connection.ops.quote_name(meta.db_table)
    pk = connection.ops.quote_name(meta.pk.column)
    columns = [connection.ops.quote_name(meta.get_field(name).column) for name in SCHEDULE_FIELDS]
    updated = connection.ops.quote_name(meta.get_field("updated_at").column)
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    sql = (
        f"UPDATE {table} AS r SET {assignments}, {updated} = %s "  # noqa: S608 - identifiers from the model, quoted
        f"FROM unnest(%b::uuid[], %b::timestamptz[], %b::timestamptz[], %b::timestamptz[]) "
        f"AS v({pk}, {', '.join(columns)}) WHERE r.{pk} = v.{pk}"
    )
    params = [stamp, [r.pk for r in reminders], *([getattr(r, name) for r in reminders] for name in SCHEDULE_FIELDS)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def tick(*, now: datetime | None = None, limit: int | None = None) -> JobRun:
    """Processes every due reminder in batches of ``limit``; records and returns a ``JobRun``.

    Each batch is one transaction: claim (``FOR NO KEY UPDATE SKIP LOCKED``), plan and write
    every occurrence of the batch together, record the occurrences, advance the schedules,
    and queue delivery after commit. Then the greetings due in each person's own zone
    (``own_time_firing.py``), the same way.
    """
    now = now or timezone.now()
    limit = limit or settings.TICK_BATCH_SIZE
    job_run = JobRun(kind=JobRun.Kind.TICK, started_at=now, details={})
    # Most minutes nothing is due: one look at the head of reminder_due_idx, without a
    # transaction and row locks.
    while Reminder.objects.due(at=now).order_by("next_run_at").values_list("pk", flat=True)[:1]:
        with transaction.atomic():
            batch = list(
                Reminder.objects.due(at=now)
                # NO KEY UPDATE: notifications being inserted elsewhere reference these rows (FK
                # checks take KEY SHARE locks); a plain FOR UPDATE would deadlock with them.
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .select_related("workspace", "event")
                .order_by("next_run_at")[:limit]
            )
            if not batch:
                break
            if job_run._state.adding:
                job_run.save()
            steps = [step for reminder in batch for step in _due_steps(reminder=reminder, now=now, job_run=job_run)]
            results = fire(steps=steps, job_run=job_run)
            save_schedules(batch)
            queued: list = []
            for result in results:
                job_run.due += 1
                job_run.missed += result.outcome == Occurrence.Outcome.MISSED
                job_run.created += len(result.created_ids)
                queued.extend(result.queue_ids)
            notifications_enqueue(notification_ids=queued)
        if len(batch) < limit:
            break
    greetings = greetings_tick(now=now, limit=limit, job_run=job_run)
    if greetings.rows:
        job_run.created += greetings.created
        job_run.missed += greetings.missed
        job_run.details["own_time_greetings"] = {"rows": greetings.rows, "greeted": greetings.greeted}
    job_run.finished_at = timezone.now()
    job_run.save()
    return job_run
