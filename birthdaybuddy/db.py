"""Bulk writes the ORM makes expensive, done in one statement on PostgreSQL.

``bulk_create`` prepares every field of every row in Python (a few microseconds each, so a
Notification row with 25 columns costs more to prepare than to insert). Here each column
travels as one array and PostgreSQL expands them with ``unnest``; a column with the same
value in every row is a single parameter. Other databases (the embedded SQLite default)
get ``bulk_create``. The rows may be model instances or, cheaper still, dicts of column values.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone

# Columns whose Python values psycopg adapts as they are; anything else goes through the field.
_NATIVE_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "DateField",
        "DateTimeField",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
        "TimeField",
        "UUIDField",
    }
)
CHUNK = 5_000


def insert_ignoring_conflicts(model: type[models.Model], rows: Sequence[models.Model]) -> list:
    """Inserts unsaved ``rows`` with ``ON CONFLICT DO NOTHING``; returns the primary keys inserted.

    ORM meaning: ``insert_ignoring_conflicts_orm`` (below).

    Rows must carry their primary key unless it is an auto field (then the database assigns
    it and the returned keys are the new ones, not set on the instances).
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return insert_ignoring_conflicts_orm(model, rows)
    inserted: list = []
    for start in range(0, len(rows), CHUNK):
        inserted.extend(_insert_chunk(model, rows[start : start + CHUNK]))
    return inserted


def insert_values_ignoring_conflicts(model: type[models.Model], rows: Sequence[dict]) -> list:
    """``insert_ignoring_conflicts`` from each row's column values (keyed by attname, such as
    ``workspace_id``) instead of model instances, which cost more to build than to insert; a
    field a row leaves out takes its default (one value for the whole call).

    ORM meaning: ``insert_values_ignoring_conflicts_orm``.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return insert_values_ignoring_conflicts_orm(model, rows)
    inserted: list = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        inserted.extend(_insert_columns(model, lambda field, chunk=chunk: _column(field, chunk)))
    return inserted


def insert_values_ignoring_conflicts_orm(model: type[models.Model], rows: Sequence[dict]) -> list:
    """What ``insert_values_ignoring_conflicts`` does, with the ORM (and what SQLite runs).

    Parity: ``tests/platform/test_fast_paths.py``."""
    return insert_ignoring_conflicts_orm(model, [model(**row) for row in rows])


def _insert_chunk(model: type[models.Model], rows: Sequence[models.Model]) -> list:
    return _insert_columns(model, lambda field: _values(field, rows))


def _insert_columns(model: type[models.Model], column_values) -> list:
    """The insert of one chunk; ``column_values(field)`` gives the field's column as it is saved."""
    meta = model._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    names: list[str] = []
    selects: list[str] = []
    arrays: list[tuple[str, list]] = []
    scalars: list = []
    for field in meta.concrete_fields:
        if field.primary_key and isinstance(field, models.AutoField | models.BigAutoField):
            continue
        values = column_values(field)
        db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
        names.append(quote(field.column))
        first = values[0]
        if all(value == first for value in values):
            selects.append(f"%s::{db_type}")
            scalars.append(first)
        else:
            alias = f"c{len(arrays)}"
            selects.append(f"v.{alias}")
            arrays.append((f"%b::{db_type}[]", values))
    if arrays:
        aliases = ", ".join(f"c{i}" for i in range(len(arrays)))
        source = f" FROM unnest({', '.join(cast for cast, _ in arrays)}) AS v({aliases})"
    else:  # every row alike: one row
        source = ""
    # Identifiers come from the model, quoted; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(names)}) "
        f"SELECT {', '.join(selects)}{source} ON CONFLICT DO NOTHING RETURNING {quote(pk.column)}"
    )
    # Parameters in placeholder order: the SELECT list's scalars first, then the arrays.
    params = [*scalars, *(values for _, values in arrays)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _values(field: models.Field, rows: Sequence[models.Model]) -> list:
    """The column's values for ``rows``, as ``bulk_create`` would save them."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return [field.pre_save(row, add=True) for row in rows]
    attname = field.attname
    values = [getattr(row, attname) for row in rows]
    if field.is_relation or field.get_internal_type() in _NATIVE_TYPES:
        return values
    return [None if value is None else field.get_db_prep_save(value, connection) for value in values]


def _column(field: models.Field, rows: Sequence[dict]) -> list:
    """The column's values for ``rows`` (dicts by attname), as ``bulk_create`` would save the
    instances ``model(**row)``: a missing value is the field's default (a callable one called
    for each row, as each instance would), ``auto_now`` fields the time of the write."""
    attname = field.attname
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        values = [timezone.now()] * len(rows)
    elif all(attname in row for row in rows):
        values = [row[attname] for row in rows]
    elif field.has_default() and callable(field.default):
        values = [row[attname] if attname in row else field.get_default() for row in rows]
    else:
        default = field.get_default()
        values = [row.get(attname, default) for row in rows]
    if field.is_relation or field.get_internal_type() in _NATIVE_TYPES:
        return values
    return [None if value is None else field.get_db_prep_save(value, connection) for value in values]


def insert_ignoring_conflicts_orm(model: type[models.Model], rows: Sequence[models.Model]) -> list:
    """What ``insert_ignoring_conflicts`` does, with the ORM (and what SQLite runs).

    Parity: ``tests/platform/test_fast_paths.py``. The unnest insert buys the tick's batch
    writes: 437 -> ~1,500 notifications per CPU-second (bench/RESULTS.md, round 2).
    """
    pk = model._meta.pk
    if isinstance(pk, models.AutoField | models.BigAutoField):
        model.objects.bulk_create(rows, ignore_conflicts=True)
        return []  # not needed by callers on this path (they count rows, not auto keys)
    keys = [row.pk for row in rows]
    model.objects.bulk_create(rows, ignore_conflicts=True)
    found = set(model.objects.filter(pk__in=keys).values_list("pk", flat=True))
    return [key for key in keys if key in found]


class ModelColumns:
    """Some columns of one model under a table alias in hand-written SQL, read back into an
    instance as the ORM would: each field's own converters (``from_db_value``: decryption,
    JSON) run on the value, and ``Model.from_db`` builds the object (unlisted fields deferred).

    ``select`` is the quoted column list for the statement; ``build(db, row, start)`` makes
    the instance from ``row[start : start + len(fields)]``.
    """

    def __init__(self, db, model: type[models.Model], alias: str, names: tuple[str, ...] | None = None):
        meta = model._meta
        wanted = {meta.get_field(name) for name in names} if names else set(meta.concrete_fields)
        self.model = model
        # ``Model.from_db`` takes the values of a subset in the order of ``concrete_fields``.
        self.fields = [field for field in meta.concrete_fields if field in wanted]
        self.attnames = frozenset(field.attname for field in self.fields)
        self.select = [f"{alias}.{db.ops.quote_name(field.column)}" for field in self.fields]
        # (position, column, converters) of the fields that have converters; the rest pass as read.
        self._converters = []
        for position, field in enumerate(self.fields):
            col = field.get_col(alias)
            converters = db.ops.get_db_converters(col) + col.get_db_converters(db)
            if converters:
                self._converters.append((position, col, converters))

    def build(self, db, row: tuple, start: int) -> models.Model:
        values = list(row[start : start + len(self.fields)])
        for position, col, converters in self._converters:
            value = values[position]
            for converter in converters:
                value = converter(value, col, db)
            values[position] = value
        return self.model.from_db(db.alias, self.attnames, values)
