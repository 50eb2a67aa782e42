"""Writing a planned import: ``bulk_create`` and one set-based UPDATE per chunk."""

from __future__ import annotations

from django.db import connections

from workspaces.importing.parse import IMPORTED_FIELDS, WRITE_CHUNK
from workspaces.importing.plan import Plan
from workspaces.models import Person


def write(plan: Plan) -> None:
    Person.objects.bulk_create(plan.create, batch_size=WRITE_CHUNK)
    # One UPDATE per chunk, with only the columns that changed somewhere in that chunk.
    chunk_size = WRITE_CHUNK // 2
    for start in range(0, len(plan.update), chunk_size):
        chunk = plan.update[start : start + chunk_size]
        fields = {"updated_at"}
        for before, after in chunk:
            fields.update(name for name in IMPORTED_FIELDS if getattr(before, name) != getattr(after, name))
        update_people([after for _, after in chunk], sorted(fields))


def update_people_orm(people: list[Person], fields: list[str]) -> None:
    """What ``update_people`` does, with the ORM."""
    Person.objects.bulk_update(people, fields)


def update_people(people: list[Person], fields: list[str]) -> None:
    """``UPDATE … FROM (VALUES …)``: one set-based statement per chunk.

    Django's ``bulk_update`` builds a ``CASE WHEN pk = … THEN …`` per field and row, which
    takes seconds per thousand rows to compile; a VALUES list is cheap to build and to run.
    PostgreSQL and SQLite (3.33+) both understand it; other databases get ``update_people_orm``.
    ``tests/platform/test_fast_paths.py`` holds the two to the same rows.
    """
    # Buys: csv_import's changed re-import (bench/RESULTS.md) without bulk_update's CASE per field and row.
    connection = connections[Person.objects.db]
    if connection.vendor not in ("postgresql", "sqlite"):
        update_people_orm(people, fields)
        return
    meta = Person._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    if connection.vendor == "postgresql":
        # VALUES rows carry no types; cast each value to its column's.
        placeholders = [f"CAST(%s AS {field.db_type(connection)})" for field in columns]
    else:
        placeholders = ["%s"] * len(columns)
    row = "(" + ", ".join(placeholders) + ")"
    table = quote(meta.db_table)
    names = ", ".join(quote(field.column) for field in columns)
    values = ", ".join([row] * len(people))
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns[1:])
    pk = quote(meta.pk.column)
    # Only quoted column names from the model go into the text; every value is a parameter.
    sql = f"WITH v ({names}) AS (VALUES {values}) UPDATE {table} SET {assignments} FROM v WHERE {table}.{pk} = v.{pk}"  # noqa: S608
    params = [
        field.get_db_prep_save(getattr(person, field.attname), connection) for person in people for field in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
