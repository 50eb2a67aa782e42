"""The caller's membership in a workspace, with its user and workspace: one query, SQL built once.

``caller_membership_orm`` is its plain ORM meaning; ``tests/workspaces/test_caller_query.py``
holds the two to the same objects on the same data.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router

from birthdaybuddy.db import ModelColumns
from workspaces.models import Membership, Workspace


def caller_membership_orm(*, workspace_id, user_id) -> Membership | None:
    """What ``caller_membership`` computes, with the ORM."""
    return (
        Membership.objects.select_related("user", "workspace")
        .filter(workspace_id=workspace_id, user_id=user_id)
        .first()
    )


# Buys: compiling the ORM query cost several times running it, on every warm workspace request
# (3.2 -> 1.4 ms CPU per warm birthdays read with the one-query authentication, bench/RESULTS.md round 2).
class CallerMembershipQuery:
    """``Membership.objects.select_related("user", "workspace").get(workspace_id=…, user_id=…)``
    (or ``None``), with its SQL built once per process and database.

    The ORM compiles that query afresh on every request, and compiling it costs several
    times what running it does; this is the one query of a warm workspace request. The
    columns and joins come from the models' own fields and the rows become instances through
    ``birthdaybuddy.db.ModelColumns``, so the objects are the ones the ORM would build
    (``tests/workspaces/test_caller_query.py`` compares them).
    """

    def __init__(self) -> None:
        self.user_field = Membership._meta.get_field("user")
        self.workspace_field = Membership._meta.get_field("workspace")
        self.compiled: dict[str, tuple[str, list]] = {}

    def _compile(self, using: str) -> tuple[str, list]:
        connection = connections[using]
        quote = connection.ops.quote_name
        joins: tuple[tuple[Any, str, Any], ...] = (
            (Membership, "m", None),
            (self.user_field.related_model, "u", self.user_field),
            (Workspace, "w", self.workspace_field),
        )
        plan = [(ModelColumns(connection, model, alias), via) for model, alias, via in joins]
        tables = f"{quote(Membership._meta.db_table)} m"
        for model, alias, via in joins[1:]:
            on = f"{alias}.{quote(via.target_field.column)} = m.{quote(via.column)}"
            tables += f" INNER JOIN {quote(model._meta.db_table)} {alias} ON ({on})"
        where = f"m.{quote(self.workspace_field.column)} = %s AND m.{quote(self.user_field.column)} = %s"
        columns = ", ".join(column for columns, _ in plan for column in columns.select)
        # Only quoted names from the models' metadata go into the text; the ids are parameters.
        sql = f"SELECT {columns} FROM {tables} WHERE ({where})"  # noqa: S608
        self.compiled[using] = (sql, plan)
        return sql, plan

    def __call__(self, *, workspace_id, user_id) -> Membership | None:
        """Raises ``ValidationError`` for an id that is not one (as a filter would)."""
        using = router.db_for_read(Membership)
        connection = connections[using]
        sql, plan = self.compiled.get(using) or self._compile(using)
        params = [
            self.workspace_field.get_db_prep_value(self.workspace_field.to_python(workspace_id), connection),
            self.user_field.get_db_prep_value(self.user_field.to_python(user_id), connection),
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()  # at most one: a membership is unique per workspace and user
        if row is None:
            return None
        built, start = {}, 0
        for columns, via in plan:
            built[via] = columns.build(connection, row, start)
            start += len(columns.fields)
        membership = built[None]
        membership.user = built[self.user_field]
        membership.workspace = built[self.workspace_field]
        return membership


caller_membership = CallerMembershipQuery()
