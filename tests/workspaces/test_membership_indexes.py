"""The membership table's indexes on PostgreSQL: no index duplicates the leading column of another."""

import pytest
from django.db import connection, transaction

from workspaces.models import Membership

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes and plans"),
]


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [Membership._meta.db_table])
        return {name for (name,) in cursor.fetchall()}


def test_the_table_has_exactly_the_indexes_it_needs():
    assert _indexes() == {
        "workspaces_membership_pkey",
        "membership_unique_user_per_workspace",
        "workspaces_membership_user_id_96a9ee37",
    }


def test_a_workspaces_members_are_still_found_by_an_index(workspace):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny: ask whether an index can serve
        plan = Membership.objects.filter(workspace=workspace).explain()
    assert "membership_unique_user_per_workspace" in plan, plan
