"""The beat tick and manual runs: due reminders become notifications, once.

The tick claims due reminders with ``SELECT … FOR UPDATE SKIP LOCKED``, writes their
notifications (unique idempotency keys) in the same transaction that advances
``next_run_at``, and queues delivery after commit. Running the same occurrence again —
a second tick, a second beat, ``run-now`` racing the tick — creates nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.services import notifications_enqueue, notifications_write
from reminders.models import Reminder, ReminderKind
from scheduling.models import JobRun, Occurrence
from scheduling.planning import PlannedMessage, plan_occurrence
from scheduling.recurrence import Occurrence as Slot
from scheduling.recurrence import daily_occurrence_on, next_daily, utc_to_local
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

# After a long outage, at most this many past occurrences of one reminder are looked at
# (each recorded as fired or missed); the rest are skipped in one step and counted.
MAX_CATCH_UP = 50


@dataclass(slots=True)
class OccurrenceResult:
    slot: Slot
    outcome: str
    planned: list[PlannedMessage] = field(default_factory=list)
    created_ids: list = field(default_factory=list)

    @property
    def already_sent(self) -> int:
        return sum(1 for message in self.planned if message.exists)


def reminder_time_zone(reminder: Reminder) -> ZoneInfo:
    return ZoneInfo(reminder.workspace.timezone)


def reminder_local_time(reminder: Reminder):
    return reminder.at_time or reminder.workspace.notify_at


def reminder_next_slot(*, reminder: Reminder, after: datetime) -> Slot | None:
    """The reminder's first occurrence strictly after ``after`` (None when it has none)."""
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        return next_daily(at=reminder_local_time(reminder), tz=reminder_time_zone(reminder), after=after)
    raise ValueError(f"reminders of kind {reminder.kind!r} are not scheduled by this engine yet")


def reminder_slot_at(*, reminder: Reminder, instant: datetime) -> Slot:
    """The occurrence a due ``next_run_at`` stands for."""
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        tz = reminder_time_zone(reminder)
        day = utc_to_local(instant, tz).date()
        return daily_occurrence_on(day=day, at=reminder_local_time(reminder), tz=tz)
    raise ValueError(f"reminders of kind {reminder.kind!r} are not scheduled by this engine yet")


def is_missed(*, reminder: Reminder, slot: Slot, now: datetime) -> bool:
    """Older than the grace period, or (for a daily digest) its local day has ended."""
    if now - slot.at > settings.SCHEDULING_GRACE:
        return True
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        return utc_to_local(now, reminder_time_zone(reminder)).date() > slot.local_date
    return False


def _record_occurrence(*, reminder: Reminder, slot: Slot, outcome: str, count: int, job_run: JobRun | None) -> None:
    Occurrence.objects.bulk_create(
        [
            Occurrence(
                reminder=reminder,
                local_date=slot.local_date,
                local_time=slot.local.time(),
                scheduled_at=slot.at,
                outcome=outcome,
                notifications=count,
                job_run=job_run,
            )
        ],
        ignore_conflicts=True,
    )


def occurrence_fire(
    *, reminder: Reminder, slot: Slot, job_run: JobRun | None = None, dry_run: bool = False
) -> OccurrenceResult:
    """Writes the notifications of one occurrence (or, with ``dry_run``, only plans them).

    Idempotent: messages whose key already exists are planned with ``exists=True`` and
    not written again.
    """
    planned = plan_occurrence(reminder=reminder, slot=slot)
    if not planned:
        outcome = Occurrence.Outcome.EMPTY
        if not dry_run:
            _record_occurrence(reminder=reminder, slot=slot, outcome=outcome, count=0, job_run=job_run)
        return OccurrenceResult(slot=slot, outcome=outcome)
    if dry_run:
        return OccurrenceResult(slot=slot, outcome=Occurrence.Outcome.FIRED, planned=planned)
    created_ids = notifications_write(notifications=[m.notification for m in planned if not m.exists])
    created = set(created_ids)
    for message in planned:
        if not message.exists and message.notification.pk not in created:
            message.exists = True  # a concurrent run wrote it first
    _record_occurrence(
        reminder=reminder, slot=slot, outcome=Occurrence.Outcome.FIRED, count=len(created_ids), job_run=job_run
    )
    return OccurrenceResult(slot=slot, outcome=Occurrence.Outcome.FIRED, planned=planned, created_ids=created_ids)


def _process_due(*, reminder: Reminder, now: datetime, job_run: JobRun) -> list[OccurrenceResult]:
    results: list[OccurrenceResult] = []
    instant = reminder.next_run_at
    skipped = 0
    while instant is not None and instant <= now:
        if len(results) >= MAX_CATCH_UP:
            nxt = reminder_next_slot(reminder=reminder, after=now)
            skipped += 1
            instant = nxt.at if nxt else None
            break
        slot = reminder_slot_at(reminder=reminder, instant=instant)
        if is_missed(reminder=reminder, slot=slot, now=now):
            _record_occurrence(
                reminder=reminder, slot=slot, outcome=Occurrence.Outcome.MISSED, count=0, job_run=job_run
            )
            results.append(OccurrenceResult(slot=slot, outcome=Occurrence.Outcome.MISSED))
            logger.warning("reminder %s: occurrence %s missed (due %s)", reminder.pk, slot.local, slot.at.isoformat())
        else:
            results.append(occurrence_fire(reminder=reminder, slot=slot, job_run=job_run))
        nxt = reminder_next_slot(reminder=reminder, after=slot.at)
        instant = nxt.at if nxt else None
    if skipped:
        job_run.details.setdefault("catch_up_truncated", []).append(str(reminder.pk))
    reminder.next_run_at = instant
    reminder.last_run_at = now
    reminder.save(update_fields=["next_run_at", "last_run_at", "updated_at"])
    return results


def tick(*, now: datetime | None = None, limit: int | None = None) -> JobRun:
    """Processes every due reminder in batches of ``limit``; records and returns a ``JobRun``."""
    now = now or timezone.now()
    limit = limit or settings.TICK_BATCH_SIZE
    job_run = JobRun(kind=JobRun.Kind.TICK, started_at=now, details={})
    while True:
        with transaction.atomic():
            batch = list(
                Reminder.objects.due(at=now)
                # NO KEY UPDATE: notifications being inserted elsewhere reference these rows (FK
                # checks take KEY SHARE locks); a plain FOR UPDATE would deadlock with them.
                .select_for_update(skip_locked=True, no_key=True, of=("self",))
                .select_related("workspace")
                .order_by("next_run_at")[:limit]
            )
            if not batch:
                break
            if job_run._state.adding:
                job_run.save()
            created: list = []
            for reminder in batch:
                for result in _process_due(reminder=reminder, now=now, job_run=job_run):
                    job_run.due += 1
                    job_run.missed += result.outcome == Occurrence.Outcome.MISSED
                    created.extend(result.created_ids)
            job_run.created += len(created)
            notifications_enqueue(notification_ids=created)
        if len(batch) < limit:
            break
    job_run.finished_at = timezone.now()
    job_run.save()
    return job_run


@dataclass(slots=True)
class DigestRun:
    workspace: Workspace
    day: date
    dry_run: bool
    result: OccurrenceResult | None
    job_run: JobRun | None


def digest_run_now(*, workspace: Workspace, day: date | None = None, dry_run: bool = False) -> DigestRun:
    """Runs the workspace's digest for local date ``day`` (default: its local today) right now.

    Shares idempotency keys with the tick, so racing it or running twice sends nothing twice.
    """
    reminder = (
        Reminder.objects.select_related("workspace")
        .filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
        .first()
    )
    if reminder is None:
        reminder = digest_ensure(workspace=workspace)
    tz = reminder_time_zone(reminder)
    day = day or utc_to_local(timezone.now(), tz).date()
    slot = daily_occurrence_on(day=day, at=reminder_local_time(reminder), tz=tz)
    if dry_run:
        return DigestRun(
            workspace=workspace,
            day=day,
            dry_run=True,
            result=occurrence_fire(reminder=reminder, slot=slot, dry_run=True),
            job_run=None,
        )
    with transaction.atomic():
        # Serializes with a tick working on the same reminder (the tick skips it meanwhile).
        reminder = Reminder.objects.select_for_update(no_key=True).select_related("workspace").get(pk=reminder.pk)
        job_run = JobRun.objects.create(kind=JobRun.Kind.MANUAL, workspace=workspace, details={"date": day.isoformat()})
        result = occurrence_fire(reminder=reminder, slot=slot, job_run=job_run)
        job_run.due = 1
        job_run.created = len(result.created_ids)
        job_run.finished_at = timezone.now()
        job_run.details["already_sent"] = result.already_sent
        job_run.save()
        notifications_enqueue(notification_ids=result.created_ids)
    return DigestRun(workspace=workspace, day=day, dry_run=False, result=result, job_run=job_run)


def digest_ensure(*, workspace: Workspace, now: datetime | None = None) -> Reminder:
    """The workspace's digest reminder, created on first need with its next run computed."""
    now = now or timezone.now()
    reminder, created = Reminder.objects.get_or_create(
        workspace=workspace,
        kind=ReminderKind.BIRTHDAY_DIGEST,
        defaults={
            "name": "Birthday and anniversary digest",
            "channels": ["slack", "email"],
        },
    )
    if created or reminder.next_run_at is None:
        reminder.workspace = workspace
        reminder_reschedule(reminder=reminder, now=now)
    return reminder


def reminder_reschedule(*, reminder: Reminder, now: datetime | None = None) -> None:
    """Recomputes ``next_run_at`` after a change of zone or time.

    Counts from the last run (or creation), not from now, so a reminder that is due but not
    yet taken by the tick is not pushed to tomorrow; an occurrence already sent is not
    sent again because its idempotency keys exist.
    """
    now = now or timezone.now()
    slot = reminder_next_slot(reminder=reminder, after=reminder.last_run_at or min(reminder.created_at, now))
    reminder.next_run_at = slot.at if slot else None
    reminder.save(update_fields=["next_run_at", "updated_at"])
