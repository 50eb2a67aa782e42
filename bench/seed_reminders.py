"""Seeds recurring (RRULE) reminders on top of the bench data set, for the reminders scenarios.

Each workspace gets ``count / workspaces`` recurring reminders: weekly, monthly, quarterly or
"n-th weekday of the month" rules anchored (``run_at``, the RFC 5545 DTSTART) on a past local
date at a quarter-hour local time between 07:00 and 18:45. Four in five speak to two to four
people of their workspace who have an email address (channels ``email``, ``email, slack`` or
``slack, email``: Slack direct messages need a bot token the bench's webhook channels lack, so
those people are reached by email); one in five posts to the workspace's Slack channel.

``burst`` of them (spread over the workspaces) have a rule that really produces the instant
``burst_at`` — a UTC minute at :07, which no quarter-hour local time of another reminder can
be, in any zone — and ``next_run_at = burst_at``. Every ``next_run_at`` is computed by the
scheduling engine (``reminder_next_slot`` from one minute before ``burst_at``, then
``reminder_due_at``), and a sample is checked against ``reminder_reschedule``.

The rows go in with ``COPY``; their names start with :data:`NAME_PREFIX`, which is how
:func:`remove` finds them again (the scenarios remove them when they are done, so the
other scenarios see the data set as seeded).
"""

from __future__ import annotations

import calendar
import json
import random
import time as clock
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.copying import copy_rows
from bench.environment import log

NAME_PREFIX = "Bench recurring"
PEOPLE_PER_WORKSPACE = 8  # candidates with an email address, per workspace
LOCAL_TIMES = [time(h, m) for h in range(7, 19) for m in (0, 15, 30, 45)]
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
CHANNEL_CHOICES = (["email"], ["email", "slack"], ["slack", "email"])
MESSAGE = "Hi {{ person.name }}: {{ reminder.name }} is due on {{ date }} at {{ time }}."
RULE_KINDS = ("weekly", "monthly", "quarterly", "nth_weekday")
CHECK_SAMPLE = 20


@dataclass
class Seeded:
    """What was seeded: the burst instant, the burst reminders and where each should go next."""

    burst_at: datetime
    reminders: int
    burst_ids: list = field(default_factory=list)
    expected_recipients: dict = field(default_factory=dict)  # burst reminder id -> messages expected
    next_after_burst: dict = field(default_factory=dict)  # burst reminder id -> its next occurrence
    shape: dict = field(default_factory=dict)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _nth_weekday(day: date) -> int:
    """Which of its month's same weekdays ``day`` is: 1-4, or -1 for a fifth (the last)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def _months_back(day: date, months: int) -> date | None:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    if day.day > calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, day.day)


def _rule_for(kind: str, day: date, rng: random.Random) -> tuple[str, date] | None:
    """An RRULE of ``kind`` that has ``day`` as an instance, and a past anchor date (also an instance)."""
    if kind == "weekly":
        return f"FREQ=WEEKLY;BYDAY={WEEKDAYS[day.weekday()]}", day - timedelta(weeks=rng.randint(2, 20))
    if kind in ("monthly", "quarterly"):
        if day.day > 28:
            return None
        interval = 3 if kind == "quarterly" else 1
        anchor = _months_back(day, interval * rng.randint(1, 4))
        if anchor is None:
            return None
        prefix = "FREQ=MONTHLY;INTERVAL=3" if interval == 3 else "FREQ=MONTHLY"
        return f"{prefix};BYMONTHDAY={day.day}", anchor
    n = _nth_weekday(day)
    year, month = divmod(day.year * 12 + day.month - 1 - rng.randint(1, 4), 12)
    same = [d for d in calendar.Calendar().itermonthdates(year, month + 1) if d.month == month + 1]
    same = [d for d in same if d.weekday() == day.weekday()]
    if n == -1 and day.day <= 28:
        return None  # a fifth weekday needs the "last" rule, which a day in the first four weeks is not
    return f"FREQ=MONTHLY;BYDAY={n:+d}{WEEKDAYS[day.weekday()]}", same[n - 1] if n > 0 else same[-1]


def burst_instant(first_due: datetime | None, now: datetime) -> datetime:
    """A UTC minute at :07 before every reminder already due (so nothing else is due at it)."""
    base = (first_due if first_due is not None else now + timedelta(days=2)) - timedelta(hours=2)
    return base.replace(minute=7, second=0, microsecond=0)


def seed(*, count: int, burst: int, seed_value: int) -> Seeded:
    """Adds ``count`` recurring reminders (``burst`` of them due at the burst instant); see the module doc."""
    from django.db import connection, transaction
    from django.db.models import Min
    from django.utils import timezone

    from reminders.models import Audience, MessageType, Reminder, ReminderKind
    from reminders.schedule import reminder_due_at, reminder_next_slot, reminder_reschedule
    from workspaces.models import Workspace

    started = clock.perf_counter()
    rng = random.Random(seed_value * 7919 + 4)
    remove()
    now = timezone.now().replace(microsecond=0)
    first_due = Reminder.objects.filter(active=True).aggregate(first=Min("next_run_at"))["first"]
    burst_at = burst_instant(first_due, now)
    workspaces = list(Workspace.objects.order_by("slug"))
    if not workspaces:
        raise RuntimeError("no workspaces: seed the bench data set first")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT workspace_id, id FROM (SELECT workspace_id, id, row_number() OVER"
            " (PARTITION BY workspace_id ORDER BY id) AS n FROM workspaces_person WHERE email <> '') ranked"
            " WHERE n <= %s",
            [PEOPLE_PER_WORKSPACE],
        )
        people: dict = {}
        for workspace_id, person_id in cursor.fetchall():
            people.setdefault(workspace_id, []).append(person_id)
    log(f"reminders seed: burst instant {burst_at.isoformat()}, {len(workspaces)} workspaces")

    seeded = Seeded(burst_at=burst_at, reminders=count)
    before = burst_at - timedelta(minutes=1)
    rows: list[tuple] = []
    recipients: list[tuple] = []
    counts: Counter = Counter()
    probe = Reminder(kind=ReminderKind.RECURRING)
    rejected = 0
    burst_rows: list[int] = []
    per_workspace, extra = divmod(count, len(workspaces))
    burst_left = burst
    burst_every = max(1, count // max(1, burst))
    n = 0
    for w, workspace in enumerate(workspaces):
        tz = ZoneInfo(workspace.timezone)
        burst_local = burst_at.astimezone(tz).replace(tzinfo=None)
        candidates = people.get(workspace.id, [])
        probe.workspace = workspace
        for _ in range(per_workspace + (1 if w < extra else 0)):
            in_burst = burst_left > 0 and (n % burst_every == 0 or burst_left >= count - n)
            # Burst reminders take every n-th slot, so their rule kinds rotate on their own count.
            kind = RULE_KINDS[len(burst_rows) % len(RULE_KINDS)] if in_burst else rng.choice(RULE_KINDS)
            rule = None
            if in_burst:
                rule = _rule_for(kind, burst_local.date(), rng) or _rule_for("weekly", burst_local.date(), rng)
                at = burst_local.time()
            if rule is None:
                in_burst = False
                at = rng.choice(LOCAL_TIMES)
                day = burst_local.date() + timedelta(days=rng.randint(1, 90))
                rule = _rule_for(kind, day, rng) or _rule_for("weekly", day, rng)
            rrule, anchor_day = rule
            run_at = datetime.combine(anchor_day, at, tzinfo=tz).astimezone(ZoneInfo("UTC"))
            probe.rrule, probe.run_at = rrule, run_at
            slot = reminder_next_slot(reminder=probe, after=before)
            if in_burst and (slot is None or slot.at != burst_at):
                rejected += 1  # e.g. the anchor's wall time fell in a DST gap: not a burst reminder then
                in_burst = False
            if slot is None or (slot.at <= burst_at and not in_burst):
                raise RuntimeError(f"{rrule} from {run_at} in {workspace.timezone}: next {slot} is not after the burst")
            reminder_id = _uuid(rng)
            channel_post = rng.random() < 0.2 or len(candidates) < 2
            chosen = [] if channel_post else rng.sample(candidates, rng.randint(2, min(4, len(candidates))))
            recipients.extend((reminder_id, person_id) for person_id in chosen)
            channels = ["slack"] if channel_post else CHANNEL_CHOICES[n % len(CHANNEL_CHOICES)]
            due = reminder_due_at(reminder=probe, slot=slot)
            rows.append(
                (
                    reminder_id,
                    workspace.id,
                    ReminderKind.RECURRING,
                    f"{NAME_PREFIX} {n:06d}",
                    Audience.WORKSPACE_CHANNEL if channel_post else Audience.PEOPLE,
                    json.dumps(channels),
                    MESSAGE,
                    rrule,
                    run_at,
                    MessageType.DEADLINE,
                    due,
                    slot.at,
                    run_at - timedelta(days=1),
                )
            )
            if in_burst:
                burst_rows.append(len(rows) - 1)
                burst_left -= 1
                seeded.burst_ids.append(reminder_id)
                seeded.expected_recipients[reminder_id] = max(1, len(chosen))
                following = reminder_next_slot(reminder=probe, after=burst_at)
                seeded.next_after_burst[reminder_id] = following.at if following else None
            counts[("burst " if in_burst else "") + kind] += 1
            counts["channel_posts" if channel_post else "to_people"] += 1
            n += 1
    if burst_left:
        raise RuntimeError(f"{burst_left} burst reminders could not be placed (rejected {rejected})")

    fields = ["id", "workspace_id", "kind", "name", "audience", "channels", "message", "rrule", "run_at"]
    fields += ["message_type", "next_run_at", "next_occurrence_at", "created_at"]
    defaults = {"personal_greetings": False, "urgent": False, "active": True}
    fields += list(defaults)
    t = clock.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    copy_rows(Reminder, [*fields, "updated_at"], ((*row, *defaults.values(), row[-1]) for row in rows))
    through = Reminder.recipients.through
    copy_rows(through, ["reminder_id", "person_id"], recipients)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Reminder._meta.db_table}")
        cursor.execute(f"ANALYZE {through._meta.db_table}")
    copy_seconds = round(clock.perf_counter() - t, 2)

    # Consistency with the service: reminder_reschedule on a sample gives the same schedule.
    sample = rng.sample(range(len(rows)), min(CHECK_SAMPLE, len(rows)))
    sample += rng.sample(burst_rows, min(CHECK_SAMPLE // 2, len(burst_rows)))
    with transaction.atomic():
        for index in sample:
            row = rows[index]
            fresh = Reminder.objects.select_related("workspace").get(pk=row[0])
            reminder_reschedule(reminder=fresh, now=burst_at + timedelta(minutes=1))
            if (fresh.next_run_at, fresh.next_occurrence_at) != (row[10], row[11]):
                rescheduled = f"{fresh.next_run_at}/{fresh.next_occurrence_at}"
                raise RuntimeError(f"seeded schedule {row[10]}/{row[11]} != reschedule's {rescheduled}")
        transaction.set_rollback(True)

    seconds = round(clock.perf_counter() - started, 2)
    seeded.shape = {
        "reminders": len(rows),
        "burst_reminders": len(seeded.burst_ids),
        "burst_at": burst_at.isoformat(),
        "burst_candidates_rejected": rejected,
        "recipients": len(recipients),
        "rules": dict(sorted(counts.items())),
        "local_times": "07:00-18:45 local on quarter hours (burst: the burst minute's local time)",
        "schedule_checked_against_reminder_reschedule": len(sample),
        "copy_seconds": copy_seconds,
        "seed_seconds": seconds,
    }
    log(f"reminders seed: {len(rows)} reminders, {len(recipients)} recipients in {seconds:.1f}s")
    return seeded


def remove() -> int:
    """Deletes the seeded reminders and everything that points at them (their notifications too)."""
    from django.db import connection

    from reminders.models import Reminder

    table = Reminder._meta.db_table
    marked = f"SELECT id FROM {table} WHERE kind = 'recurring' AND name LIKE %s"  # noqa: S608 - our table name
    pattern = NAME_PREFIX.replace("%", r"\%") + " %"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
            " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND c.confrelid = %s::regclass",
            [table],
        )
        for referencing, column in cursor.fetchall():
            cursor.execute(f'DELETE FROM {referencing} WHERE "{column}" IN ({marked})', [pattern])  # noqa: S608
        cursor.execute(f"DELETE FROM {table} WHERE id IN ({marked})", [pattern])  # noqa: S608
        return cursor.rowcount
