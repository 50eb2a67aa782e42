"""Three indexes fewer on the notifications table, the table every delivery writes twice.

A status change is not a HOT update (``status`` and ``next_attempt_at`` are indexed), so each
claim and each success writes a new entry into every index of the table. Gone:

- the ``workspace_id`` foreign-key index: ``notification_ws_created_idx``
  (workspace, -created_at) leads with the same column and serves every lookup and cascade;
- the ``varchar_pattern_ops`` twins PostgreSQL's backend adds for ``idempotency_key``
  (unique) and ``provider_message_id`` (indexed): nothing filters them with ``LIKE 'x%'``;
  equality lookups keep the unique index and the plain one.

Dropped CONCURRENTLY (a non-atomic migration), so deliveries go on meanwhile. PostgreSQL
only: the embedded SQLite default has no pattern indexes, and keeps its small
``workspace_id`` index until its table is next rebuilt.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "notifications_notification"
# What Django named them (``_create_index_name``), for the way back.
WORKSPACE_INDEX = ("notifications_notification_workspace_id_6f7a384b", "workspace_id", "")
PATTERN_INDEXES = (
    ("notifications_notification_idempotency_key_0aab04ad_like", "idempotency_key", "varchar_pattern_ops"),
    ("notifications_notification_provider_message_id_602d31c1_like", "provider_message_id", "varchar_pattern_ops"),
)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _column, _opclass in (WORKSPACE_INDEX, *PATTERN_INDEXES):
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column, opclass in (WORKSPACE_INDEX, *PATTERN_INDEXES):
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {TABLE} ({column} {opclass})")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("notifications", "0006_prune_history"),
        ("workspaces", "0004_audit_workspace_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="notifications",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_indexes, create_indexes, elidable=False)],
        ),
    ]
