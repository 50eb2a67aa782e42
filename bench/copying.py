"""Bulk loading for the bench's seeds: PostgreSQL ``COPY`` by model, and a table loaded without its indexes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

COPY_CHUNK = 50_000
NULL = "\\N"  # COPY text format

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def copy_rows(model, fields: list[str], rows: Iterable, *, preformatted: bool = False) -> int:
    """``COPY`` rows (tuples in ``fields`` order, by attname) into ``model``'s table; returns the count.

    With ``preformatted``, each row is already a line of COPY text format. Columns not in
    ``fields`` that have a default or may not be null (fields added since this seed was written)
    get the field's default, computed per row where it is a callable (a random key).
    """
    from django.db import connection

    by_attname = {field.attname: field for field in model._meta.concrete_fields}
    defaults = [
        field
        for field in model._meta.concrete_fields
        if field.attname not in fields and not field.primary_key and (field.has_default() or not field.null)
    ]
    constant = all(not callable(field.default) for field in defaults)
    fixed = "".join("\t" + copy_text(field.get_default()) for field in defaults) if constant else ""

    def suffix() -> str:
        return fixed if constant else "".join("\t" + copy_text(field.get_default()) for field in defaults)

    names = [by_attname[name].column for name in fields] + [field.column for field in defaults]
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buffer: list[str] = []
        for row in rows:
            buffer.append((row if preformatted else "\t".join(map(copy_text, row))) + suffix())
            count += 1
            if len(buffer) >= COPY_CHUNK:
                copy.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            copy.write("\n".join(buffer) + "\n")
    return count


@contextmanager
def bulk_load(model) -> Iterator[None]:
    """Loads ``model``'s table fast: FK triggers off for the session (the generated data is
    consistent by construction) and secondary indexes built once at the end, not row by row."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN"
            " (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'x'))",
            [table, table],
        )
        indexes = cursor.fetchall()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET session_replication_role = replica")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            for _, definition in indexes:
                cursor.execute(definition)
