"""The notifications table's indexes on PostgreSQL: each one earns its write cost.

Every claim and every success rewrites an entry in each index of the table (a status change
is not a HOT update), so an index nothing reads is a cost on every delivery.
"""

import pytest
from django.db import connection, transaction

from notifications.models import Notification
from tests.notifications.factories import NotificationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's indexes and plans"),
]

EXPECTED = {
    "notifications_notification_pkey",
    "notification_created_brin",
    "notification_open_idx",
    "notification_ws_created_idx",
    "notification_ws_failed_idx",
    "notification_thread_parent_idx",
    "notifications_notification_idempotency_key_key",
    "notifications_notification_person_id_ec9b6507",
    "notifications_notification_provider_message_id_602d31c1",
    "notifications_notification_reminder_id_fb44726b",
    "notifications_notification_resent_from_id_894c1c59",
}


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Notification._meta.db_table])
        return dict(cursor.fetchall())


def _plan(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test table is tiny: ask whether an index can serve
        return queryset.explain()


def test_the_table_has_exactly_the_indexes_it_needs():
    indexes = _indexes()
    assert set(indexes) == EXPECTED, sorted(set(indexes) ^ EXPECTED)
    assert not [name for name, definition in indexes.items() if "varchar_pattern_ops" in definition]


def test_the_lookups_that_lost_an_index_still_use_one():
    notification = NotificationFactory(provider_message_id="SM123")

    by_key = _plan(Notification.objects.filter(idempotency_key=notification.idempotency_key))
    assert "notifications_notification_idempotency_key_key" in by_key, by_key
    by_provider_id = _plan(Notification.objects.filter(provider_message_id="SM123"))
    assert "notifications_notification_provider_message_id_602d31c1" in by_provider_id, by_provider_id
    # A workspace's notifications (its history list, its deletion's cascade) use the composite index.
    by_workspace = _plan(Notification.objects.filter(workspace_id=notification.workspace_id))
    assert "notification_ws_created_idx" in by_workspace, by_workspace
    # A parent's replies (released when it is settled), by its key as delivery and the sweeper ask.
    replies = _plan(Notification.objects.filter(thread_parent__idempotency_key__in=[notification.idempotency_key]))
    assert "notification_thread_parent_idx" in replies, replies
