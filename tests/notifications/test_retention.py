"""Retention: old audit entries and WhatsApp session bookkeeping are pruned daily, in chunks."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from audit.entries import audit_manual_send
from birthdaybuddy.celery import app
from notifications import retention, tasks
from notifications.models import InboundContact

pytestmark = pytest.mark.django_db

beat_migration = importlib.import_module("notifications.migrations.0006_prune_history")


def contact(phone: str, *, days_ago: float) -> InboundContact:
    return InboundContact.objects.create(
        channel="whatsapp",
        phone=phone,
        to_number="+14155550100",
        account_sid="AC" + "0" * 32,
        last_inbound_at=timezone.now() - timedelta(days=days_ago),
    )


def old_entry(workspace, *, days_ago: int) -> LogEntry:
    entry = audit_manual_send(workspace=workspace, actor=None, action="digest.run_now")
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=timezone.now() - timedelta(days=days_ago))
    return entry


def test_inbound_contacts_older_than_the_retention_are_deleted():
    stale = [contact(f"+1415555020{n}", days_ago=8 + n) for n in range(3)]
    recent = contact("+14155550300", days_ago=6)
    today = contact("+14155550301", days_ago=0)

    assert retention.inbound_contacts_prune(dry_run=True) == (3, True)
    assert InboundContact.objects.count() == 5
    assert retention.inbound_contacts_prune(chunk_size=2) == (3, True)

    assert not InboundContact.objects.filter(pk__in=[row.pk for row in stale]).exists()
    assert set(InboundContact.objects.values_list("pk", flat=True)) == {recent.pk, today.pk}


def test_inbound_retention_never_goes_below_the_whatsapp_window(settings):
    settings.INBOUND_CONTACT_RETENTION_DAYS = 1
    settings.WHATSAPP_SESSION_WINDOW_SECONDS = 3 * 24 * 3600
    inside_window = contact("+14155550400", days_ago=2)
    outside = contact("+14155550401", days_ago=3.5)

    assert retention.inbound_contact_retention() == timedelta(days=3)
    assert retention.inbound_contacts_prune() == (1, True)
    assert list(InboundContact.objects.values_list("pk", flat=True)) == [inside_window.pk]
    assert not InboundContact.objects.filter(pk=outside.pk).exists()

    settings.INBOUND_CONTACT_RETENTION_DAYS = 0  # keep forever
    contact("+14155550402", days_ago=400)
    assert retention.inbound_contacts_prune() == (0, True)
    assert InboundContact.objects.count() == 2


def test_command_dry_run_prints_and_deletes_nothing_then_prunes(workspace, settings):
    settings.AUDIT_RETENTION_DAYS = 90
    old = old_entry(workspace, days_ago=91)
    kept = old_entry(workspace, days_ago=89)
    stale = contact("+14155550500", days_ago=10)

    out = StringIO()
    call_command("prune_history", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "audit log entries older than" in text
    assert "would delete 1." in text
    assert "inbound contacts older than" in text
    assert "Done: would delete 2 row(s)." in text
    assert LogEntry.objects.filter(pk=old.pk).exists()
    assert InboundContact.objects.filter(pk=stale.pk).exists()

    out = StringIO()
    call_command("prune_history", "--chunk-size", "1", stdout=out)
    assert "Done: deleted 2 row(s)." in out.getvalue()
    assert not LogEntry.objects.filter(pk=old.pk).exists()
    assert LogEntry.objects.filter(pk=kept.pk).exists()
    assert not InboundContact.objects.filter(pk=stale.pk).exists()

    with pytest.raises(CommandError, match="chunk-size"):
        call_command("prune_history", "--chunk-size", "0")


def test_command_says_when_a_retention_is_off(settings):
    settings.AUDIT_RETENTION_DAYS = 0
    out = StringIO()
    call_command("prune_history", stdout=out)
    assert "audit log entries: kept forever (retention off); nothing deleted." in out.getvalue()


def test_the_daily_beat_entry_runs_the_registered_task():
    # Run the data migration's function again (a transactional test may have flushed its rows).
    beat_migration.create_prune(apps, None)
    beat_migration.create_prune(apps, None)

    [task] = PeriodicTask.objects.filter(task="notifications.prune_history")
    assert task.enabled
    assert task.interval is None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("17", "3", "*")
    assert str(task.crontab.timezone) == "UTC"
    assert 0 < task.expire_seconds < 24 * 3600
    app.loader.import_default_modules()
    assert "notifications.prune_history" in app.tasks


def test_the_task_prunes_and_queues_itself_again_while_a_backlog_is_left(workspace):
    for n in range(3):
        old_entry(workspace, days_ago=400 + n)
    contact("+14155550600", days_ago=30)

    assert tasks.prune_history() == {"audit log entries": 3, "inbound contacts": 1}
    assert tasks.prune_history() == {"audit log entries": 0, "inbound contacts": 0}

    for n in range(3):
        old_entry(workspace, days_ago=400 + n)
    # A budget already spent: one chunk of one entry, and the rest is left for a run queued at once.
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        queue.clear()
        result = tasks.prune_history(time_budget=0, chunk_size=1)
        message = queue.get(timeout=2)
        queue.close()
    assert result == {"audit log entries": 1, "inbound contacts": 0}
    assert LogEntry.objects.filter(timestamp__lt=timezone.now() - timedelta(days=365)).count() == 2
    assert message.headers["task"] == "notifications.prune_history"
    assert message.payload[1] == {"time_budget": 0, "chunk_size": 1}
