"""PostgreSQL: the claim and the record of a success, one statement each.

The only raw SQL of delivery. It does what the ORM queries of ``claim.py`` and ``outcome.py`` do
(they stay the reference, and what SQLite runs) in one round trip each and with far less Python
per message: a data-modifying CTE (``WITH claimed AS (UPDATE … RETURNING …) SELECT …``), which
SQLite lacks. Table and column names come from the models' ``_meta``. Values read back go through
each field's own converters (``from_db_value``), so encrypted secrets decrypt exactly as in the
ORM. ``tests/notifications/test_delivery_sql.py`` holds both paths to the same result.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from django.db import DEFAULT_DB_ALIAS, connections

from birthdaybuddy.db import ModelColumns
from notifications import conf
from notifications.delivery.common import (
    CLAIM_FIELDS,
    CLOCK_TOLERANCE,
    PERSON_FIELDS,
    WORKSPACE_FIELDS,
    Configs,
    Job,
    S,
    attempt_values,
)
from notifications.models import ChannelConfig, DeliveryAttempt, Notification
from workspaces.models import Person, Workspace


def sql_connection():
    """The connection to run the single statements below on, or ``None`` to use the ORM path
    (any database but PostgreSQL, or ``NOTIFICATIONS_DELIVERY_SQL`` off)."""
    db = connections[DEFAULT_DB_ALIAS]
    return db if db.vendor == "postgresql" and conf.delivery_sql() else None


# The claim: ``claim``'s conditional UPDATE, returning the row together with what ``prepare``
# reads — the workspace, the person's opt-outs and the active channel config (at most one per
# workspace and kind: ``channelconfig_one_per_kind``). ``{name}``: quoted identifiers from ``_meta``.
_CLAIM_SELECT_SQL = """
SELECT {columns}
  FROM claimed
  JOIN {w_table} w ON w.{w_id} = claimed.{n_workspace}
  LEFT JOIN {p_table} p ON p.{p_id} = claimed.{n_person}
  LEFT JOIN {c_table} c ON c.{c_workspace} = claimed.{n_workspace} AND c.{c_kind} = claimed.{n_channel} AND c.{c_active}
"""
_CLAIM_UPDATE_SQL = """
UPDATE {n_table}
   SET {n_status} = %(sending)s, {n_attempts} = {n_attempts} + 1, {n_claim_token} = %(token)s, {n_updated_at} = %(now)s
 WHERE {where}
RETURNING {returning}
"""
# One id: the plain conditional UPDATE.
_CLAIM_ONE_SQL = "WITH claimed AS ({update}) {select}"
_CLAIM_ONE_WHERE = "{n_id} = %(id)s AND {n_status} = %(pending)s AND {n_next_attempt_at} <= %(due)s"
# Several: the due rows are locked first, skipping those another worker holds (two overlapping
# batches neither wait nor deadlock). Locking re-checks the conditions on the row's latest
# version, and the lock is held until the UPDATE of the same statement, so it needs no other.
_CLAIM_MANY_SQL = """
WITH locked AS MATERIALIZED (
    SELECT {n_id} FROM {n_table}
     WHERE {n_id} = ANY(%(ids)s::{pk_type}[]) AND {n_status} = %(pending)s AND {n_next_attempt_at} <= %(due)s
     ORDER BY {n_id} FOR UPDATE SKIP LOCKED
), claimed AS ({update}) {select}"""
_CLAIM_MANY_WHERE = "{n_id} IN (SELECT {n_id} FROM locked)"
# The record of successes: ``sent`` unless a delivery receipt already settled the row
# (``delivered``/``failed`` win), the provider's message id when it gave one, and the attempts
# inserted by the same statement. ``{sent}``: (id, message id) rows; ``{attempts}``: attempt rows.
_RECORD_SENT_SQL = """
WITH sent AS (
    UPDATE {n_table} n
       SET {n_status} = CASE WHEN n.{n_status} = %s THEN %s ELSE n.{n_status} END,
           {n_sent_at} = %s, {n_updated_at} = %s, {n_claim_token} = NULL, {n_rate_reserved} = false,
           {n_provider_message_id} = COALESCE(NULLIF(v.message_id, ''), n.{n_provider_message_id})
      FROM {sent} v (id, message_id)
     WHERE n.{n_id} = v.id AND n.{n_claim_token} = %s
)
INSERT INTO {attempt_table} ({attempt_columns}) {attempts} ON CONFLICT DO NOTHING
"""
# Several rows: one array per column, so the text is the same for any number of rows (psycopg
# parses it once). One row: plain values, cheaper to adapt than arrays.
_RECORD_MANY = {
    "sent": "unnest(%s::{pk_type}[], %s::text[])",
    "attempts": "SELECT * FROM unnest({attempt_arrays})",
}
_RECORD_ONE = {
    "sent": "(VALUES (%s::{pk_type}, %s::text))",
    "attempts": "VALUES ({attempt_values})",
}


class Statements:
    """The claim and the record, written once per database alias.

    What they hold does not depend on the thread's connection: quoted names, and converters
    that are the fields' own (PostgreSQL's backend adds none). Each call runs on the calling
    thread's connection.
    """

    _built: ClassVar[dict[str, Statements]] = {}

    @classmethod
    def of(cls, db) -> Statements:
        statements = cls._built.get(db.alias)
        if statements is None:
            statements = cls._built[db.alias] = cls(db)
        return statements

    def __init__(self, db):
        self.notification = ModelColumns(db, Notification, "claimed", CLAIM_FIELDS)
        self.workspace = ModelColumns(db, Workspace, "w", WORKSPACE_FIELDS)
        self.person = ModelColumns(db, Person, "p", PERSON_FIELDS)
        self.config = ModelColumns(db, ChannelConfig, "c")
        self.pk = Notification._meta.pk
        self.attempt_fields = [field for field in DeliveryAttempt._meta.concrete_fields if not field.primary_key]
        qn = db.ops.quote_name
        names = {"pk_type": self.pk.db_type(db)}
        for prefix, model in (("n", Notification), ("w", Workspace), ("p", Person), ("c", ChannelConfig)):
            names[f"{prefix}_table"] = qn(model._meta.db_table)
            names |= {f"{prefix}_{field.name}": qn(field.column) for field in model._meta.concrete_fields}
        names |= {
            "attempt_table": qn(DeliveryAttempt._meta.db_table),
            "attempt_columns": ", ".join(qn(field.column) for field in self.attempt_fields),
            "attempt_arrays": ", ".join(f"%s::{field.cast_db_type(db)}[]" for field in self.attempt_fields),
            "attempt_values": ", ".join(["%s"] * len(self.attempt_fields)),
            "returning": ", ".join(qn(field.column) for field in self.notification.fields),
            "columns": ", ".join(
                self.notification.select + self.workspace.select + self.person.select + self.config.select
            ),
        }
        names["select"] = _CLAIM_SELECT_SQL.format_map(names)

        def claim_sql(sql: str, where: str) -> str:
            update = _CLAIM_UPDATE_SQL.format_map(names | {"where": where.format_map(names)})
            return sql.format_map(names | {"update": update})

        self.claim_one = claim_sql(_CLAIM_ONE_SQL, _CLAIM_ONE_WHERE)
        self.claim_many = claim_sql(_CLAIM_MANY_SQL, _CLAIM_MANY_WHERE)
        self.record_one = _RECORD_SENT_SQL.format_map(
            names | {part: sql.format_map(names) for part, sql in _RECORD_ONE.items()}
        )
        self.record_many = _RECORD_SENT_SQL.format_map(
            names | {part: sql.format_map(names) for part, sql in _RECORD_MANY.items()}
        )

    def claim(self, db, ids: list, *, now: datetime, token: uuid.UUID) -> tuple[list[Notification], Configs]:
        params = {
            "sending": S.SENDING,
            "pending": S.PENDING,
            "token": token,
            "now": now,
            "due": now + CLOCK_TOLERANCE,
        }
        if len(ids) == 1:
            sql, params["id"] = self.claim_one, self.pk.to_python(ids[0])
        else:
            sql, params["ids"] = self.claim_many, [self.pk.to_python(pk) for pk in ids]
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        workspace_at = len(self.notification.fields)
        person_at = workspace_at + len(self.workspace.fields)
        config_at = person_at + len(self.person.fields)
        workspaces: dict = {}
        people: dict = {None: None}
        configs: Configs = {}
        claimed = []
        for row in rows:
            notification = self.notification.build(db, row, 0)
            workspace_id, person_id, config_id = row[workspace_at], row[person_at], row[config_at]
            if workspace_id not in workspaces:
                workspaces[workspace_id] = self.workspace.build(db, row, workspace_at)
            if person_id not in people:
                people[person_id] = self.person.build(db, row, person_at)
            if config_id is not None and (notification.workspace_id, notification.channel) not in configs:
                config = self.config.build(db, row, config_at)
                configs[(config.workspace_id, config.kind)] = config
            WORKSPACE_FIELD.set_cached_value(notification, workspaces[workspace_id])
            PERSON_FIELD.set_cached_value(notification, people[person_id])
            claimed.append(notification)
        return claimed, configs

    def record_sent(self, db, jobs: list[Job], *, token: uuid.UUID, now: datetime) -> None:
        attempts = [attempt_values(job, now) for job in jobs]
        ids = [job.notification.pk for job in jobs]
        message_ids = [(job.result.provider_message_id if job.result is not None else "") or "" for job in jobs]
        # The values are already what psycopg adapts (aware datetimes, UUIDs, ints, str), so the
        # fields' ``get_db_prep_save`` (which bulk_create would call) is left out: called per
        # value, it took over half of a batch's record time.
        columns = [[values[field.attname] for values in attempts] for field in self.attempt_fields]
        if len(jobs) == 1:
            sql, sent, rows = self.record_one, [ids[0], message_ids[0]], [column[0] for column in columns]
        else:
            sql, sent, rows = self.record_many, [ids, message_ids], columns
        with db.cursor() as cursor:
            cursor.execute(sql, [S.SENDING, S.SENT, now, now, *sent, token, *rows])


WORKSPACE_FIELD = Notification._meta.get_field("workspace")
PERSON_FIELD = Notification._meta.get_field("person")


# --- send -----------------------------------------------------------------------------------
