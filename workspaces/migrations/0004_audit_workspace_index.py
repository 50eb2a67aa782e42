"""An index for the audit view: one workspace's entries, newest first.

``…/audit/`` filters auditlog's entries by ``additional_data ->> 'workspace_id'``
(``AuditEntryQuerySet.for_workspace``) and orders them by ``timestamp DESC, id DESC``; this
expression index serves both, so a page is an index range scan however large the trail of
all workspaces grows. The table belongs to auditlog, so the index lives outside any model
state; PostgreSQL only (the embedded SQLite default keeps small tables). Built
CONCURRENTLY (hence a non-atomic migration) so writes to a large trail are not blocked.
"""

from django.db import migrations

INDEX_NAME = "auditlog_entry_ws_ts_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX_NAME} ON auditlog_logentry "
            "((additional_data ->> 'workspace_id'), timestamp DESC, id DESC)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workspaces", "0003_person_phone_index"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
