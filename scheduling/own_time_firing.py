"""The tick's part of each person's own time: due greeting rows become greetings, once.

Claims due ``GreetingSchedule`` rows with ``FOR NO KEY UPDATE SKIP LOCKED`` (two ticks never
take the same row; ``own_time_claim.py``), plans the greetings of the whole batch from data read once (who
celebrates — the digest's own rules — channel configs, template overrides), writes them with
the digest's idempotency keys in the same transaction that advances the rows, and queues
delivery after commit. What the schedule is: ``own_time.py``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from birthdaybuddy.i18n import language_of
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from notifications.models import Template
from notifications.rendering import VARIANT_FIELDS, render_with_override
from notifications.services import notifications_enqueue, notifications_write_rows
from scheduling.digest import Celebrations, celebrations_for
from scheduling.models import GreetingSchedule, JobRun
from scheduling.own_time import calendar_of, greeting_slot_instant, greeting_time, is_missed, next_greeting
from scheduling.own_time_claim import Claimed, claim_due, due_greetings
from scheduling.planned import idempotency_key, planned_values
from scheduling.recipients import plan_greetings

logger = logging.getLogger(__name__)

ROW_FIELDS = ("zone", "local_date", "next_run_at")


@dataclass(slots=True)
class Fired:
    rows: int = 0
    greeted: int = 0  # rows whose person was greeted (written now or already)
    created: int = 0
    missed: int = 0


def greetings_tick(*, now: datetime, limit: int, job_run: JobRun) -> Fired:
    """Fires every due greeting row in batches of ``limit`` (one transaction each)."""
    total = Fired()
    # Most minutes nothing is due: one look at the head of greeting_due_idx.
    while due_greetings(now=now).order_by("next_run_at").values_list("pk", flat=True)[:1]:
        with transaction.atomic():
            claimed = claim_due(now=now, limit=limit)
            rows = claimed.rows
            if not rows:
                break
            if job_run._state.adding:
                job_run.save()
            fired = greetings_fire(claimed=claimed, now=now)
        for name in ("rows", "greeted", "created", "missed"):
            setattr(total, name, getattr(total, name) + getattr(fired, name))
        if len(rows) < limit:
            break
    return total


def greetings_fire(*, claimed: Claimed, now: datetime) -> Fired:
    """Greets the people of claimed rows and advances (or drops) the rows; in the caller's transaction."""
    rows, digests = claimed.rows, claimed.digests
    fired = Fired(rows=len(rows))
    calendars: dict = {}
    groups: dict[tuple, list[GreetingSchedule]] = defaultdict(list)
    slots: dict[tuple, datetime] = {}  # the group's instant: its first row's
    moved: list[GreetingSchedule] = []
    advance: list[GreetingSchedule] = []
    drop: list[GreetingSchedule] = []
    for row in rows:
        workspace = row.workspace
        digest = digests.get(workspace.pk)
        at = greeting_time(workspace, digest)
        due = greeting_slot_instant(row, at)
        if due > now:
            # The digest's time moved later since the row was written: wait for it.
            row.next_run_at = due
            moved.append(row)
            continue
        if not workspace.greet_in_own_zone:
            drop.append(row)  # switched off: this last one is still the row's (see own_time.greeting_schedule_disable)
        else:
            advance.append(row)
        if is_missed(row, due=due, now=now, grace=settings.SCHEDULING_GRACE):
            fired.missed += 1
            logger.warning("greeting of person %s for %s missed (due %s)", row.person_id, row.local_date, due)
        elif digest is not None and digest.active:
            # With the digest's personal greetings off, only private celebrations are greeted (_plan).
            groups[(workspace.pk, row.local_date)].append(row)
            slots.setdefault((workspace.pk, row.local_date), due)
    notifications = _plan(groups=groups, slots=slots, claimed=claimed)
    # The greetings as column values, not models: building a model costs more than inserting it.
    created = notifications_write_rows(rows=notifications) if notifications else []
    fired.created = len(created)
    fired.greeted = sum(len(group) for group in groups.values())
    # One batch task for the minute's greetings, not one task each: a day's greetings come in
    # about a hundred minutes (bench/RESULTS.md, "Each person's own time").
    notifications_enqueue(notification_ids=created, batch=True)
    _advance(advance, digests=digests, calendars=calendars, now=now)
    save_rows(moved)
    if drop:
        GreetingSchedule.objects.filter(pk__in=[row.pk for row in drop]).delete()
    return fired


def _plan(*, groups: dict[tuple, list[GreetingSchedule]], slots: dict[tuple, datetime], claimed: Claimed) -> list:
    """The greetings of the rows to fire, grouped by (workspace, announced date): who celebrates by
    the digest's rules, applied to the claimed people, routed by the configs read with the claim;
    a query for the workspaces' own templates only where some have them."""
    if not groups:
        return []
    digests, configs = claimed.digests, claimed.configs
    workspaces = {rows[0].workspace_id: rows[0].workspace for rows in groups.values()}
    # The people came with their rows' claim: who celebrates is decided on them, not read again.
    people = [row.person for rows in groups.values() for row in rows]
    celebrations = celebrations_for(pairs=[(workspaces[ws], day) for ws, day in groups], people=people)
    busy = {ws for (ws, day), found in celebrations.items() if found}
    if not busy:
        return []
    overrides: dict[tuple, list[Template]] = defaultdict(list)  # a workspace's variants, in their order
    if with_templates := busy & claimed.with_templates:
        templates = Template.objects.filter(workspace_id__in=with_templates).only(*VARIANT_FIELDS)
        for template in templates.order_by("created_at", "id"):
            overrides[(template.workspace_id, template.reminder_kind, template.channel)].append(template)
    notifications: list = []
    for (ws, day), rows in groups.items():
        found = celebrations[(ws, day)]
        mine = {row.person_id for row in rows}
        greeted = Celebrations(
            day=day,
            birthdays=[c for c in found.birthdays if c.person.pk in mine],
            anniversaries=[c for c in found.anniversaries if c.person.pk in mine],
        )
        if not greeted:
            continue
        workspace = workspaces[ws]
        digest = digests[ws]
        digest.workspace = workspace
        # The digest's own occurrence for the day: its key is the digest greeting's.
        slot = Slot(at=slots[(ws, day)], local=datetime.combine(day, greeting_time(workspace, digest)))

        def add(
            *, purpose, channel, recipient, kind, context, person=None, workspace=workspace, digest=digest, slot=slot
        ):
            # The variant is the one the message's key chooses, as when the digest greets.
            key = idempotency_key(reminder=digest, slot=slot, purpose=purpose, channel=channel, recipient=recipient)
            rendered = render_with_override(
                override=overrides.get((workspace.pk, kind, channel)),
                workspace=workspace,
                reminder_kind=kind,
                channel=channel,
                context=context,
                language=language_of(person=person, workspace=workspace),
                variant_key=key,
            )
            notifications.append(
                planned_values(
                    reminder=digest,
                    slot=slot,
                    purpose=purpose,
                    channel=channel,
                    recipient=recipient,
                    person=person,
                    rendered=rendered,
                    key=key,
                )
            )

        plan_greetings(
            workspace=workspace,
            celebrations=greeted,
            configs=configs.get(ws, {}),
            add=add,
            private_only=not digest.personal_greetings,
        )
    return notifications


def _advance(rows: list[GreetingSchedule], *, digests: dict, calendars: dict, now: datetime) -> None:
    """Moves each fired row to the person's next greeting after the date it stood for."""
    if not rows:
        return
    keep: list[GreetingSchedule] = []
    gone: list = []
    for row in rows:
        workspace = row.workspace
        key = (workspace.holiday_country, workspace.holiday_region)
        if key not in calendars:
            calendars[key] = calendar_of(workspace)
        nxt = next_greeting(
            row.person,
            workspace,
            at=greeting_time(workspace, digests.get(workspace.pk)),
            on_or_after=None,
            after=row.local_date,
            now=now,
            is_workday=calendars[key],
        )
        if nxt is None:
            gone.append(row.pk)
            continue
        row.zone, row.local_date, row.next_run_at = nxt.zone, nxt.local_date, nxt.next_run_at
        keep.append(row)
    save_rows(keep)
    if gone:
        GreetingSchedule.objects.filter(pk__in=gone).delete()


def save_rows_orm(rows: list[GreetingSchedule]) -> None:
    """What ``save_rows`` does, with the ORM (and what SQLite runs): one ``INSERT … ON CONFLICT
    (person) DO UPDATE`` (no CASE expression per row and field, as ``bulk_update`` builds)."""
    if rows:
        GreetingSchedule.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["person"], update_fields=list(ROW_FIELDS)
        )


def save_rows(rows: list[GreetingSchedule]) -> None:
    """Writes the claimed rows' new schedule with one UPDATE.

    On PostgreSQL the values travel as four arrays (``UPDATE … FROM unnest(…)``), as
    ``tick.save_schedules`` writes the reminders': ``bulk_create``'s upsert prepared a model
    row and a parameter set per row. The rows are claimed, so they exist. Elsewhere
    ``save_rows_orm``; ``tests/platform/test_fast_paths.py`` holds the two to the same rows.
    """
    # Buys: the rows' write, ~10 % of a day's planning CPU with the upsert, ~2 % with this (bench/RESULTS.md).
    if not rows:
        return
    if connection.vendor != "postgresql":
        save_rows_orm(rows)
        return
    quote = connection.ops.quote_name
    columns_of = {field.name: field.column for field in GreetingSchedule._meta.concrete_fields}
    table = quote(GreetingSchedule._meta.db_table)
    pk = quote(str(columns_of["person"]))
    columns = [quote(str(columns_of[name])) for name in ROW_FIELDS]
    assignments = ", ".join(f"{column} = v.{column}" for column in columns)
    sql = (
        f"UPDATE {table} AS g SET {assignments} "  # noqa: S608 - identifiers from the model, quoted
        f"FROM unnest(%b::uuid[], %b::text[], %b::date[], %b::timestamptz[]) "
        f"AS v({pk}, {', '.join(columns)}) WHERE g.{pk} = v.{pk}"
    )
    params = [[row.pk for row in rows], *([getattr(row, name) for row in rows] for name in ROW_FIELDS)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
