"""The claim of due greeting rows, with everything firing reads of their people and workspaces.

``claim_due_orm`` is its plain ORM meaning (and what SQLite runs): the rows ``FOR NO KEY
UPDATE SKIP LOCKED`` with their person and workspace (``select_related``), then the
workspaces' digests, their active channel configs as routing reads them
(``ChannelConfigQuerySet.for_routing``) and which of them have templates of their own.
``claim_due`` does the same on PostgreSQL in one statement whose SQL is built once per
process: the ORM compiled four queries afresh for every minute with greetings due, and
built the objects through ``select_related``'s machinery. Columns and joins come
from the models' own fields, and rows become instances through
``birthdaybuddy.db.ModelColumns`` (each field's converters, ``Model.from_db``), so the
objects are the ones the ORM builds. ``tests/platform/test_fast_paths.py`` holds the two to
the same objects on the same data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from django.db import connection
from django.db.models import Model

from birthdaybuddy.db import ModelColumns
from notifications.models import ChannelConfig, Template
from reminders.models import Reminder, ReminderKind
from scheduling.models import GreetingSchedule
from workspaces.models import Person, Workspace

# What firing reads of a digest (its key, time and switches): a digest row is wide, and one
# is read for nearly every row fired (bench/RESULTS.md, "Each person's own time").
DIGEST_FIELDS = ("id", "workspace_id", "kind", "at_time", "active", "personal_greetings")
# What firing reads of a person (the celebration rules, routing, the message) and of a
# workspace (its time rules, name and language); the rest stays deferred.
PERSON_FIELDS = (
    "id",
    "workspace_id",
    "name",
    "email",
    "phone",
    "slack_user_id",
    "birth_month",
    "birth_day",
    "birth_year",
    "joined_on",
    "preferred_channels",
    "opted_out_channels",
    "show_age",
    "consent",
    "celebrate_birthday",
    "celebrate_anniversary",
    "timezone",
    "slack_deactivated_at",
    "language",
    "preferences_key",
)
WORKSPACE_FIELDS = (
    "id",
    "name",
    "timezone",
    "notify_at",
    "leap_day_policy",
    "celebration_shift",
    "holiday_country",
    "holiday_region",
    "locale",
    "greet_in_own_zone",
)


# A config as routing reads it (``for_routing``), in the order of ``concrete_fields``.
CONFIG_FIELDS = ("id", "workspace_id", "kind", "active", "channel_id")


@dataclass(slots=True)
class Claimed:
    """Due rows, locked for this transaction (person and workspace set), and of their workspaces:
    the digests, the active channel configs and which have templates of their own."""

    rows: list[GreetingSchedule]
    digests: dict = field(default_factory=dict)  # workspace id -> Reminder (only DIGEST_FIELDS)
    configs: dict = field(default_factory=dict)  # workspace id -> {kind: ChannelConfig (for_routing)}
    with_templates: set = field(default_factory=set)  # workspace ids


def due_greetings(*, now: datetime):
    return GreetingSchedule.objects.filter(next_run_at__lte=now)


def claim_due_orm(*, now: datetime, limit: int) -> Claimed:
    """What ``claim_due`` does, with the ORM."""
    rows = list(
        due_greetings(now=now)
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
        .select_related("person", "workspace")
        .only(
            *(f.name for f in GreetingSchedule._meta.concrete_fields),
            *(f"person__{name}" for name in PERSON_FIELDS),
            *(f"workspace__{name}" for name in WORKSPACE_FIELDS),
        )
        .order_by("next_run_at")[:limit]
    )
    if not rows:
        return Claimed(rows=[])
    workspace_ids = {row.workspace_id for row in rows}
    digests = Reminder.objects.filter(workspace_id__in=workspace_ids, kind=ReminderKind.BIRTHDAY_DIGEST)
    claimed = Claimed(rows=rows, digests={digest.workspace_id: digest for digest in digests.only(*DIGEST_FIELDS)})
    for config in ChannelConfig.objects.filter(workspace_id__in=workspace_ids).for_routing():
        claimed.configs.setdefault(config.workspace_id, {})[config.kind] = config
    templates = Template.objects.filter(workspace_id__in=workspace_ids)
    claimed.with_templates = set(templates.values_list("workspace_id", flat=True).distinct())
    return claimed


# Buys: the claim and the digests' read, ~a fifth of a day's greetings planning CPU (bench/RESULTS.md,
# "Each person's own time: planning throughput, round 3").
class DueGreetingsClaim:
    """``claim_due_orm`` in one statement: the due rows' ids locked in a CTE (``FOR NO KEY UPDATE
    SKIP LOCKED``, as the ORM's ``of=("self",)`` locks only them), joined to their person,
    workspace and digest (at most one per workspace: ``reminder_one_digest_per_workspace``), with
    the workspace's active configs as a JSON array (kind, channel, whether a bot token is set:
    the secrets are not read) and whether it has templates."""

    def __init__(self) -> None:
        self.compiled: str | None = None
        self.plan: list[tuple[ModelColumns, str]] = []

    def _compile(self) -> str:
        quote = connection.ops.quote_name

        def column(model: type[Model], name: str) -> str:
            return quote(str(model._meta.get_field(name).column))  # type: ignore[union-attr]

        def table(model: type[Model]) -> str:
            return quote(model._meta.db_table)

        g_person, g_workspace = column(GreetingSchedule, "person"), column(GreetingSchedule, "workspace")
        g_next = column(GreetingSchedule, "next_run_at")
        d_workspace, d_kind = column(Reminder, "workspace"), column(Reminder, "kind")
        c_id, c_kind, c_channel, c_bot, c_active, c_workspace = (
            column(ChannelConfig, name) for name in ("id", "kind", "channel_id", "bot_token", "active", "workspace")
        )
        # Only quoted names from the models' metadata go into the text; values are parameters.
        configs = (
            f"(SELECT json_agg(json_build_array(c.{c_id}, c.{c_kind}, c.{c_channel}, c.{c_bot} IS NOT NULL)) "  # noqa: S608
            f"FROM {table(ChannelConfig)} c WHERE c.{c_workspace} = g.{g_workspace} AND c.{c_active})"
        )
        templates = (
            f"EXISTS (SELECT 1 FROM {table(Template)} t "  # noqa: S608
            f"WHERE t.{column(Template, 'workspace')} = g.{g_workspace})"
        )
        self.plan = [
            (ModelColumns(connection, GreetingSchedule, "g"), "row"),
            (ModelColumns(connection, Person, "p", PERSON_FIELDS), "person"),
            (ModelColumns(connection, Workspace, "w", WORKSPACE_FIELDS), "workspace"),
            (ModelColumns(connection, Reminder, "d", DIGEST_FIELDS), "digest"),
        ]
        columns = ", ".join(name for columns, _ in self.plan for name in columns.select)
        rows = table(GreetingSchedule)
        # Only quoted names from the models' metadata go into the text; values are parameters.
        return (
            f"WITH due AS (SELECT {g_person} FROM {rows} WHERE {g_next} <= %s "  # noqa: S608
            f"ORDER BY {g_next} LIMIT %s FOR NO KEY UPDATE SKIP LOCKED) "
            f"SELECT {columns}, {configs}, {templates} FROM due JOIN {rows} g ON g.{g_person} = due.{g_person} "
            f"JOIN {table(Person)} p ON p.{column(Person, 'id')} = g.{g_person} "
            f"JOIN {table(Workspace)} w ON w.{column(Workspace, 'id')} = g.{g_workspace} "
            f"LEFT JOIN {table(Reminder)} d ON d.{d_workspace} = g.{g_workspace} AND d.{d_kind} = %s "
            f"ORDER BY g.{g_next}"
        )

    def __call__(self, *, now: datetime, limit: int) -> Claimed:
        if connection.vendor != "postgresql":
            return claim_due_orm(now=now, limit=limit)
        if self.compiled is None:
            self.compiled = self._compile()
        with connection.cursor() as cursor:
            cursor.execute(self.compiled, [now, limit, ReminderKind.BIRTHDAY_DIGEST.value])
            found = cursor.fetchall()
        claimed = Claimed(rows=[])
        (rows, _), (people, _), (workspaces, _), (digests, _) = self.plan
        workspace_by_id: dict[object, Workspace] = {}
        for values in found:
            row = cast(GreetingSchedule, rows.build(connection, values, 0))
            start = len(rows.fields)
            person = cast(Person, people.build(connection, values, start))
            start += len(people.fields)
            workspace = workspace_by_id.get(row.workspace_id)
            if workspace is None:
                workspace = cast(Workspace, workspaces.build(connection, values, start))
                workspace_by_id[row.workspace_id] = workspace
            start += len(workspaces.fields)
            if values[start] is not None and row.workspace_id not in claimed.digests:
                claimed.digests[row.workspace_id] = digests.build(connection, values, start)
            start += len(digests.fields)
            if row.workspace_id not in claimed.configs:
                claimed.configs[row.workspace_id] = self._configs(row.workspace_id, values[start] or [])
            if values[start + 1]:
                claimed.with_templates.add(row.workspace_id)
            row.person, row.workspace = person, workspace
            claimed.rows.append(row)
        return claimed

    @staticmethod
    def _configs(workspace_id, found: list) -> dict:
        """``{kind: ChannelConfig}`` as ``for_routing()`` builds them, from the JSON the claim read."""
        configs = {}
        for pk, kind, channel_id, bot_token_set in found:
            config = ChannelConfig.from_db(
                connection.alias, CONFIG_FIELDS, [uuid.UUID(pk), workspace_id, kind, True, channel_id]
            )
            config.bot_token_set = bot_token_set
            configs[kind] = config
        return configs


claim_due = DueGreetingsClaim()
