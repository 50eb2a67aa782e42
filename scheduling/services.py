"""Manual runs: today's digest now (run-now, dry runs), a reminder sent now, and what they report.

They fire occurrences as the tick does (``scheduling/firing.py``, the same idempotency keys), so
a manual run racing the tick creates nothing twice; the tick itself is ``scheduling/tick.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit.entries import audit_manual_send
from birthdaybuddy.errors import Conflict
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from birthdaybuddy.timerules.recurrence import daily_occurrence_on, utc_to_local
from notifications.models import Notification, NotificationStatus
from notifications.services import notifications_enqueue, notifications_write
from reminders import schedule, slots
from reminders.models import Reminder, ReminderKind
from reminders.services import digest_ensure
from scheduling.firing import OccurrenceResult, occurrence_fire
from scheduling.models import JobRun, Occurrence
from scheduling.planning import Planner
from workspaces.models import Workspace

logger = logging.getLogger(__name__)


DELIVERED_STATUSES = frozenset({NotificationStatus.SENT, NotificationStatus.DELIVERED})
FAILED_STATUSES = frozenset({NotificationStatus.FAILED, NotificationStatus.UNKNOWN})
OPEN_STATUSES = frozenset({NotificationStatus.PENDING, NotificationStatus.SENDING})


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a manual run found and did, each state on its own: a failed message is never "already sent"."""

    created: int = 0
    skipped: int = 0
    already_delivered: int = 0
    already_failed: int = 0
    pending: int = 0
    already_skipped: int = 0

    @property
    def existing(self) -> int:
        return self.already_delivered + self.already_failed + self.pending + self.already_skipped

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "skipped": self.skipped,
            "already_delivered": self.already_delivered,
            "already_failed": self.already_failed,
            "pending": self.pending,
            "already_skipped": self.already_skipped,
        }

    def sentence(self) -> str:
        """The counts in words, e.g. "1 created, 2 already failed (resend them from the notifications)"."""
        parts = []
        if self.created - self.skipped:
            parts.append(f"{self.created - self.skipped} created")
        if self.skipped:
            parts.append(f"{self.skipped} recipient(s) skipped (opted out or unreachable)")
        if self.already_delivered:
            parts.append(f"{self.already_delivered} already delivered")
        if self.already_failed:
            parts.append(f"{self.already_failed} already failed (resend them from the notifications)")
        if self.pending:
            parts.append(f"{self.pending} still pending")
        if self.already_skipped:
            parts.append(f"{self.already_skipped} already recorded as skipped")
        return ", ".join(parts) if parts else "nothing to send"


def existing_statuses(result: OccurrenceResult | None) -> dict[str, str]:
    """The status of each message of a run that already existed, by idempotency key."""
    if result is None:
        return {}
    keys = [m.notification.idempotency_key for m in result.planned if m.exists]
    return dict(Notification.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "status"))


def run_counts(result: OccurrenceResult | None) -> RunCounts:
    """Splits a run's messages by what became of them: written now, or found with which status."""
    if result is None:
        return RunCounts()
    statuses = existing_statuses(result)
    found = [statuses.get(m.notification.idempotency_key) for m in result.planned if m.exists]
    return RunCounts(
        created=len(result.created_ids),
        skipped=result.skipped,
        already_delivered=sum(1 for status in found if status in DELIVERED_STATUSES),
        already_failed=sum(1 for status in found if status in FAILED_STATUSES),
        pending=sum(1 for status in found if status in OPEN_STATUSES),
        already_skipped=sum(1 for status in found if status == NotificationStatus.SKIPPED),
    )


@dataclass(slots=True)
class DigestRun:
    workspace: Workspace
    day: date
    dry_run: bool
    result: OccurrenceResult | None
    job_run: JobRun | None


def digest_run_now(
    *, workspace: Workspace, day: date | None = None, dry_run: bool = False, actor=None, origin: str | None = None
) -> DigestRun:
    """Runs the workspace's digest for local date ``day`` (default: its local today) right now.

    Shares idempotency keys with the tick, so racing it or running twice sends nothing twice.
    A real run is recorded in the workspace's audit log as ``digest.run_now`` by ``actor``
    (``None``: a command or task) from ``origin``, as ``audit_manual_send`` takes them.
    """
    if dry_run:
        return _digest_run(workspace=workspace, day=day, dry_run=True)
    with transaction.atomic():
        run = _digest_run(workspace=workspace, day=day)
        audit_manual_send(
            workspace=workspace,
            actor=actor,
            action="digest.run_now",
            details={"date": run.day.isoformat(), **run_counts(run.result).as_dict(), "job_run": str(run.job_run.pk)},
            origin=origin,
        )
    return run


def _digest_run(*, workspace: Workspace, day: date | None = None, dry_run: bool = False) -> DigestRun:
    reminder = (
        Reminder.objects.select_related("workspace")
        .filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
        .first()
    )
    if reminder is None:
        reminder = digest_ensure(workspace=workspace)
    tz = schedule.reminder_time_zone(reminder)
    day = day or utc_to_local(timezone.now(), tz).date()
    slot = daily_occurrence_on(day=day, at=schedule.reminder_local_time(reminder), tz=tz)
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
        job_run.details.update(run_counts(result).as_dict())
        job_run.save()
        notifications_enqueue(notification_ids=result.queue_ids)
    return DigestRun(workspace=workspace, day=day, dry_run=False, result=result, job_run=job_run)


# --- manual runs ----------------------------------------------------------------------------


@dataclass(slots=True)
class ReminderRun:
    reminder: Reminder
    result: OccurrenceResult
    job_run: JobRun | None
    # True: an extra manual copy (the schedule untouched); False: the digest's own run of today.
    manual_extra: bool = True


def _send_now_slot(reminder: Reminder, now: datetime) -> Slot | None:
    slot = schedule.reminder_upcoming_slot(reminder=reminder, now=now)
    if slot is None and reminder.kind == ReminderKind.ONE_TIME and reminder.run_at is not None:
        # Already sent: running its one occurrence again is idempotent and creates nothing.
        slot = Slot(at=reminder.run_at, local=utc_to_local(reminder.run_at, schedule.reminder_time_zone(reminder)))
    return slot


# A second manual send of the same reminder this soon after the first is taken for a double click.
SEND_NOW_REPEAT_WINDOW = timedelta(seconds=60)


def manual_idempotency_key(*, job_run: JobRun, key: str) -> str:
    """The key of a manual extra message: its run's, so it never stands in for the scheduled occurrence."""
    return f"manual:{job_run.pk}:{key}"


def reminder_send_now(
    *, reminder: Reminder, now: datetime | None = None, actor=None, origin: str | None = None
) -> ReminderRun:
    """Sends an extra, manual copy of the reminder's upcoming occurrence now; the schedule is untouched.

    The messages are those of the occurrence the reminder waits for (or its next; a sent
    one-time reminder: its only one), written under keys of their own (``manual:<job run>:…``):
    the scheduled occurrence still goes out at its time, and no occurrence is recorded as
    fired. Quiet hours do not hold back a manual send. The birthday digest instead runs
    today's digest (``digest_run_now``): that run and the scheduled one are the same messages,
    so whatever it sends is not sent again at ``notify_at``.

    Raises ``Conflict`` when the event is cancelled, no occurrence is left, or the same reminder
    was sent manually less than a minute ago (a double click). Recorded in the workspace's
    audit log as ``reminder.send_now`` by ``actor`` from ``origin``.
    """
    with transaction.atomic():
        run = _reminder_send_now(reminder=reminder, now=now or timezone.now())
        result = run.result
        counts = run_counts(result)
        audit_manual_send(
            workspace=run.reminder.workspace,
            actor=actor,
            action="reminder.send_now",
            target=run.reminder,
            details={
                "occurrence": f"{result.slot.local:%Y-%m-%dT%H:%M}",
                "manual_extra": run.manual_extra,
                **counts.as_dict(),
                "created": counts.created - counts.skipped,
            },
            origin=origin,
        )
    return run


def _reminder_send_now(*, reminder: Reminder, now: datetime) -> ReminderRun:
    if reminder.kind == ReminderKind.BIRTHDAY_DIGEST:
        run = _digest_run(workspace=reminder.workspace)
        return ReminderRun(reminder=reminder, result=run.result, job_run=run.job_run, manual_extra=False)
    with transaction.atomic():
        # Serializes two manual sends of the same reminder (and a tick working on it).
        reminder = (
            Reminder.objects.select_for_update(no_key=True, of=("self",))
            .select_related("workspace", "event")
            .get(pk=reminder.pk)
        )
        if not slots.schedulable(reminder):
            raise Conflict("The event of this reminder is cancelled: nothing is sent.", code="event_cancelled")
        slot = _send_now_slot(reminder, now)
        if slot is None:
            raise Conflict("This reminder has no occurrence left to send.", code="no_occurrence")
        recent = (
            JobRun.objects.filter(
                kind=JobRun.Kind.MANUAL,
                workspace=reminder.workspace,
                started_at__gt=now - SEND_NOW_REPEAT_WINDOW,
                started_at__lte=now,
                details__reminder=str(reminder.pk),
                details__trigger="send_now",
            )
            .order_by("-started_at")
            .first()
        )
        if recent is not None:
            seconds = max(1, round((now - recent.started_at).total_seconds()))
            raise Conflict(
                f"This reminder was sent manually {seconds} second(s) ago; wait a minute to send another copy.",
                code="sent_recently",
            )
        job_run = JobRun.objects.create(
            kind=JobRun.Kind.MANUAL,
            workspace=reminder.workspace,
            started_at=now,
            details={"reminder": str(reminder.pk), "occurrence": slot.local.isoformat(), "trigger": "send_now"},
        )
        planned = Planner([(reminder, slot)]).plan(reminder=reminder, slot=slot)
        for message in planned:
            message.notification.idempotency_key = manual_idempotency_key(
                job_run=job_run, key=message.notification.idempotency_key
            )
        created = set(notifications_write(notifications=[m.notification for m in planned]))
        result = OccurrenceResult(
            slot=slot,
            outcome=Occurrence.Outcome.FIRED if planned else Occurrence.Outcome.EMPTY,
            planned=planned,
            created_ids=[m.notification.pk for m in planned if m.notification.pk in created],
        )
        job_run.due = 1
        job_run.created = len(result.created_ids)
        job_run.finished_at = timezone.now()
        job_run.details.update(run_counts(result).as_dict())
        job_run.save()
        notifications_enqueue(notification_ids=result.queue_ids)
    return ReminderRun(reminder=reminder, result=result, job_run=job_run, manual_extra=True)


def send_now_detail(run: ReminderRun) -> str:
    """What a send-now did, in words (shared by the API and the admin)."""
    result = run.result
    counts = run_counts(result)
    when = f"{result.slot.local:%Y-%m-%d %H:%M}"
    if not run.manual_extra:
        return f"Ran today's digest ({result.slot.local:%Y-%m-%d}): {counts.sentence()}."
    if not result.planned:
        return f"Nothing to send: the occurrence of {when} has no recipients."
    return (
        f"Sent an extra copy of the occurrence of {when} now: {counts.sentence()}. "
        "The schedule is unchanged: that occurrence still goes out at its time."
    )
