"""Deleting sign-ups nobody verified: service, Celery task, command and the beat entry."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from accounts import services
from accounts.models import User
from accounts.tasks import cleanup_unverified_users
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MIGRATION = "0002_periodic_task_cleanup_unverified_users"


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def population(now, settings):
    """One user of each kind; only ``expired`` should go."""
    ttl = settings.UNVERIFIED_USER_TTL
    return {
        "expired": UserFactory(
            email="expired@example.com", status=User.Status.PENDING, created_at=now - ttl - timedelta(minutes=1)
        ),
        "recent": UserFactory(
            email="recent@example.com", status=User.Status.PENDING, created_at=now - ttl + timedelta(minutes=1)
        ),
        "verified": UserFactory(email="old-verified@example.com", created_at=now - ttl * 10),
        "staff": UserFactory(
            email="pending-staff@example.com", status=User.Status.PENDING, is_staff=True, created_at=now - ttl * 10
        ),
    }


def remaining() -> set[str]:
    return set(User.objects.values_list("email", flat=True))


def test_service_deletes_only_users_pending_past_the_ttl(population, now):
    deleted = services.unverified_users_cleanup(now=now)
    assert deleted == ["expired@example.com"]
    assert remaining() == {"recent@example.com", "old-verified@example.com", "pending-staff@example.com"}
    assert services.unverified_users_cleanup(now=now) == []


def test_service_uses_the_clock_it_is_given(population, now, settings):
    later = now + settings.UNVERIFIED_USER_TTL
    assert sorted(services.unverified_users_cleanup(now=later)) == ["expired@example.com", "recent@example.com"]


def test_task_returns_the_count(population):
    assert cleanup_unverified_users.name == "accounts.cleanup_unverified_users"
    assert cleanup_unverified_users.apply().get() == 1
    assert "expired@example.com" not in remaining()


def test_task_is_registered_with_the_celery_app():
    from birthdaybuddy.celery import app

    app.loader.import_default_modules()
    assert app.tasks["accounts.cleanup_unverified_users"].run.__module__ == "accounts.tasks"


def test_command_dry_run_lists_without_deleting(population):
    out = StringIO()
    call_command("cleanup_unverified_users", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == ["Would delete 1 unverified user(s).", "  expired@example.com"]
    assert "expired@example.com" in remaining()


def test_command_deletes_and_prints(population):
    out = StringIO()
    call_command("cleanup_unverified_users", stdout=out)
    assert out.getvalue().splitlines() == ["Deleted 1 unverified user(s).", "  expired@example.com"]
    assert "expired@example.com" not in remaining()
    out = StringIO()
    call_command("cleanup_unverified_users", stdout=out)
    assert out.getvalue().splitlines() == ["Deleted 0 unverified user(s)."]


# --- The beat entry -----------------------------------------------------------------------


def test_migration_is_applied():
    assert ("accounts", MIGRATION) in MigrationRecorder(connection).applied_migrations()


def test_migration_creates_the_periodic_task_and_reverses_cleanly():
    """
    GIVEN the data migration's forward and reverse functions
    WHEN they run (repeatedly) against the database
    THEN exactly one hourly "Delete unverified users" entry exists after forward, none after reverse

    The functions are called directly: other tests may have flushed the rows the real
    migration created, and SQLite cannot re-run migrations inside a test transaction.
    """
    migration = importlib.import_module(f"accounts.migrations.{MIGRATION}")

    migration.delete_periodic_task(global_apps, None)
    assert not PeriodicTask.objects.filter(name="Delete unverified users").exists()

    migration.create_periodic_task(global_apps, None)
    migration.create_periodic_task(global_apps, None)

    task = PeriodicTask.objects.get(name="Delete unverified users")
    assert task.task == "accounts.cleanup_unverified_users"
    assert task.enabled
    assert task.crontab is None
    assert (task.interval.every, task.interval.period) == (1, IntervalSchedule.HOURS)
    assert IntervalSchedule.objects.filter(every=1, period=IntervalSchedule.HOURS).count() == 1

    migration.delete_periodic_task(global_apps, None)
    assert not PeriodicTask.objects.filter(name="Delete unverified users").exists()


def test_migration_keeps_an_edited_schedule_row_and_run_history():
    migration = importlib.import_module(f"accounts.migrations.{MIGRATION}")
    migration.create_periodic_task(global_apps, None)
    last_run = timezone.now() - timedelta(minutes=5)
    PeriodicTask.objects.filter(name="Delete unverified users").update(last_run_at=last_run, total_run_count=7)
    migration.create_periodic_task(global_apps, None)
    task = PeriodicTask.objects.get(name="Delete unverified users")
    assert task.total_run_count == 7
    assert task.last_run_at == last_run
