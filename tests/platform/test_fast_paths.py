"""Each hand-written statement against its plain ORM meaning: the same rows on the same data (PostgreSQL).

The others live with their app: delivery's claim and record (tests/notifications/test_delivery_sql.py),
the caller's membership (tests/workspaces/test_caller_query.py), the birthdays page spliced into
the paginator's envelope (tests/workspaces/test_birthdays_api.py, "what DRF renders").
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from birthdaybuddy.db import insert_ignoring_conflicts, insert_ignoring_conflicts_orm
from notifications.models import Notification
from reminders.models import Reminder
from reminders.services import digest_ensure
from scheduling.tick import save_schedules, save_schedules_orm
from tests.factories import PersonFactory, WorkspaceFactory
from workspaces.importing.write import update_people, update_people_orm
from workspaces.models import Person

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the statements run on PostgreSQL only"),
]


def stored(model, pks, *, skip=()) -> dict:
    """The rows as the database has them, by primary key, without the columns named in ``skip``."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
    return {row["pk"]: row for row in model.objects.filter(pk__in=pks).values("pk", *names)}


def notification_rows(workspace, keys) -> list[Notification]:
    return [
        Notification(
            id=uuid.UUID(int=n + 1),
            workspace=workspace,
            channel=("email", "slack", "sms")[n % 3],
            recipient=f"r{n}@example.com",
            subject=f"Subject {n}" if n % 2 else "",
            body=f"body {n} — «ü»",
            occurrence_date=datetime(2026, 3, 1 + n, tzinfo=UTC).date(),
            idempotency_key=key,
        )
        for n, key in enumerate(keys)
    ]


def test_the_unnest_insert_writes_what_bulk_create_writes():
    workspace = WorkspaceFactory()
    Notification.objects.bulk_create(notification_rows(workspace, ["taken"])[:1])  # a conflict for both paths
    keys = ["taken", "a", "b", "c"]
    auto = ("created_at", "updated_at", "next_attempt_at")  # stamped with the time of the write

    fast_ids = insert_ignoring_conflicts(Notification, notification_rows(workspace, keys)[1:])
    fast = stored(Notification, fast_ids, skip=auto)
    Notification.objects.filter(pk__in=fast_ids).delete()

    orm_ids = insert_ignoring_conflicts_orm(Notification, notification_rows(workspace, keys)[1:])
    assert sorted(orm_ids) == sorted(fast_ids)
    assert len(fast_ids) == 3
    assert stored(Notification, orm_ids, skip=auto) == fast

    # A row whose key is taken is skipped by both, and reported by neither.
    again = notification_rows(workspace, ["a2", "a"])[1:]
    again[0].id = uuid.uuid4()
    assert insert_ignoring_conflicts(Notification, again) == []
    assert insert_ignoring_conflicts_orm(Notification, again) == []


def test_the_unnest_schedule_update_writes_what_bulk_update_writes():
    reminders = [digest_ensure(workspace=WorkspaceFactory()) for _ in range(3)]
    base = datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    for n, reminder in enumerate(reminders):
        reminder.next_run_at = base + timedelta(days=n)
        reminder.next_occurrence_at = base + timedelta(days=n, hours=1) if n != 1 else None
        reminder.last_run_at = base - timedelta(minutes=n)
    pks = [r.pk for r in reminders]

    save_schedules(reminders)
    fast = stored(Reminder, pks, skip=("updated_at",))
    Reminder.objects.filter(pk__in=pks).update(next_run_at=None, next_occurrence_at=None, last_run_at=None)
    save_schedules_orm(reminders)
    assert stored(Reminder, pks, skip=("updated_at",)) == fast
    assert fast[pks[0]]["next_run_at"] == base
    assert fast[pks[1]]["next_occurrence_at"] is None


def test_the_values_update_of_an_import_writes_what_bulk_update_writes():
    workspace = WorkspaceFactory()
    people = [PersonFactory(workspace=workspace, name=f"P{n}") for n in range(3)]
    originals = {p.pk: stored(Person, [p.pk])[p.pk] for p in people}
    fields = ["name", "email", "birth_year", "preferred_channels", "show_age", "updated_at"]
    for n, person in enumerate(people):
        person.name = f"Renamed {n}"
        person.email = f"renamed{n}@example.com"
        person.birth_year = None if n == 1 else 1980 + n
        person.preferred_channels = ["email", "sms"][: n + 1]
        person.show_age = n % 2 == 0
        person.updated_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    pks = list(originals)

    update_people(people, fields)
    fast = stored(Person, pks)
    assert fast != originals
    for pk, values in originals.items():
        Person.objects.filter(pk=pk).update(**{name: values[name] for name in fields})
    update_people_orm(people, fields)
    assert stored(Person, pks) == fast
