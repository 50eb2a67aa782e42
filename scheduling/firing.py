"""Firing occurrences: plan, write and record them, once; what the tick and manual runs share.

One planner reads what every occurrence of a batch needs; one ``notifications_write`` inserts
all their messages (unique idempotency keys: running the same occurrence again creates nothing);
one insert records the occurrences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from birthdaybuddy.db import insert_ignoring_conflicts
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from notifications.services import notifications_write
from reminders.models import Reminder
from scheduling.models import JobRun, Occurrence
from scheduling.planned import PlannedMessage
from scheduling.planning import Planner, plan_occurrence


@dataclass(slots=True)
class OccurrenceResult:
    slot: Slot
    outcome: str
    planned: list[PlannedMessage] = field(default_factory=list)
    created_ids: list = field(default_factory=list)

    @property
    def already_sent(self) -> int:
        return sum(1 for message in self.planned if message.exists)

    @property
    def queue_ids(self) -> list:
        """Created rows to deliver (``skipped`` ones are written as a record, never queued)."""
        skipped = {m.notification.pk for m in self.planned if m.skipped}
        return [pk for pk in self.created_ids if pk not in skipped]

    @property
    def skipped(self) -> int:
        created = set(self.created_ids)
        return sum(1 for m in self.planned if m.skipped and m.notification.pk in created)


def occurrence_row(
    *,
    reminder: Reminder,
    slot: Slot,
    outcome: str,
    count: int,
    job_run: JobRun | None,
    covered_through: date | None = None,
) -> Occurrence:
    return Occurrence(
        covered_through=covered_through,
        reminder=reminder,
        local_date=slot.local_date,
        local_time=slot.local.time(),
        scheduled_at=slot.at,
        outcome=outcome,
        notifications=count,
        job_run=job_run,
    )


def occurrence_fire(
    *, reminder: Reminder, slot: Slot, job_run: JobRun | None = None, dry_run: bool = False
) -> OccurrenceResult:
    """Writes the notifications of one occurrence (or, with ``dry_run``, only plans them).

    Idempotent: messages whose key already exists are planned with ``exists=True`` and
    not written again.
    """
    if dry_run:
        planned = plan_occurrence(reminder=reminder, slot=slot)
        outcome = Occurrence.Outcome.FIRED if planned else Occurrence.Outcome.EMPTY
        return OccurrenceResult(slot=slot, outcome=outcome, planned=planned)
    return fire(steps=[Step(reminder=reminder, slot=slot, outcome=Occurrence.Outcome.FIRED)], job_run=job_run)[0]


@dataclass(slots=True)
class Step:
    """One occurrence the tick settles: fired (planned and written) or recorded as missed."""

    reminder: Reminder
    slot: Slot
    outcome: str


def fire(*, steps: list[Step], job_run: JobRun | None) -> list[OccurrenceResult]:
    """Plans, writes and records a batch of occurrences with a handful of statements in all.

    One planner reads what every occurrence needs; one ``notifications_write`` inserts all
    their messages (``ON CONFLICT DO NOTHING`` on the idempotency key: what another run
    already wrote is reported as existing, not written twice); one insert records the
    occurrences.
    """
    firing = [step for step in steps if step.outcome == Occurrence.Outcome.FIRED]
    planner = Planner([(step.reminder, step.slot) for step in firing], prep=True)
    plans = {id(step): planner.plan(reminder=step.reminder, slot=step.slot) for step in firing}
    created = set(notifications_write(notifications=[m.notification for p in plans.values() for m in p]))
    results: list[OccurrenceResult] = []
    rows: list[Occurrence] = []
    for step in steps:
        planned = plans.get(id(step), [])
        created_ids = [m.notification.pk for m in planned if m.notification.pk in created]
        for message in planned:
            message.exists = message.notification.pk not in created  # written by an earlier or concurrent run
        outcome = step.outcome
        if outcome == Occurrence.Outcome.FIRED and not planned:
            outcome = Occurrence.Outcome.EMPTY
        rows.append(
            occurrence_row(
                reminder=step.reminder,
                slot=step.slot,
                outcome=outcome,
                count=len(created_ids),
                job_run=job_run,
                covered_through=planner.covered_through(reminder=step.reminder, slot=step.slot),
            )
        )
        results.append(OccurrenceResult(slot=step.slot, outcome=outcome, planned=planned, created_ids=created_ids))
    insert_ignoring_conflicts(Occurrence, rows)
    return results
