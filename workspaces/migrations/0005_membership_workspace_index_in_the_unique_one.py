"""The membership table's ``workspace_id`` index goes: the unique (workspace, user) constraint's
index leads with the same column and serves every lookup by workspace and the cascade.

Dropped CONCURRENTLY (a non-atomic migration); the foreign key itself is left alone (Django's
AlterField would drop it and add it back, re-checking every row under lock). PostgreSQL only:
the embedded SQLite default keeps its small index until its table is next rebuilt.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "workspaces_membership"
INDEX = "workspaces_membership_workspace_id_03c7ef39"  # what Django named it, for the way back


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} (workspace_id)")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("workspaces", "0004_audit_workspace_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="membership",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, create_index, elidable=False)],
        ),
    ]
