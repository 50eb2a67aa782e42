"""Each hand-written statement against its plain ORM meaning: the same rows on the same data (PostgreSQL).

The others live with their app: delivery's claim and record (tests/notifications/test_delivery_sql.py),
the caller's membership (tests/workspaces/test_caller_query.py), the birthdays page spliced into
the paginator's envelope (tests/workspaces/test_birthdays_api.py, "what DRF renders").
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from audit.entries import insert_entries, insert_entries_orm
from birthdaybuddy.db import (
    insert_ignoring_conflicts,
    insert_ignoring_conflicts_orm,
    insert_values_ignoring_conflicts,
    insert_values_ignoring_conflicts_orm,
)
from notifications.models import Notification
from reminders.models import Reminder
from reminders.services import digest_ensure
from scheduling.models import GreetingSchedule
from scheduling.own_time_claim import DIGEST_FIELDS, PERSON_FIELDS, WORKSPACE_FIELDS, claim_due, claim_due_orm
from scheduling.own_time_firing import save_rows, save_rows_orm
from scheduling.tick import save_schedules, save_schedules_orm
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
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


def test_the_insert_from_column_values_writes_what_the_models_write():
    """Rows given as column values (attnames), each leaving out what it does not set: defaults
    filled as ``Model(**row)`` fills them, a key taken skipped, the inserted ids returned."""
    workspace = WorkspaceFactory()
    reminder = digest_ensure(workspace=workspace)
    person = PersonFactory(workspace=workspace)
    auto = ("created_at", "updated_at", "next_attempt_at")

    def rows():
        return [
            {
                "id": uuid.UUID(int=n + 100),
                "workspace_id": workspace.pk,
                "reminder_id": reminder.pk if n % 2 else None,
                "person_id": person.pk if n != 1 else None,
                "channel": ("email", "slack", "sms")[n],
                "recipient": f"r{n}@example.com",
                "body": f"body {n} — «ü»",
                "occurrence_date": datetime(2026, 3, 1 + n, tzinfo=UTC).date(),
                "idempotency_key": key,
                **({"image_url": "https://example.com/cake.png", "image_alt": "Cake"} if n == 0 else {}),
                **({"status": "failed", "last_error": "template_limit_exceeded: body"} if n == 2 else {}),
            }
            for n, key in enumerate(["v-a", "v-b", "v-c"])
        ]

    Notification.objects.bulk_create(notification_rows(workspace, ["v-b"]))  # a conflict for both paths
    fast_ids = insert_values_ignoring_conflicts(Notification, rows())
    assert sorted(fast_ids) == [uuid.UUID(int=100), uuid.UUID(int=102)]
    fast = stored(Notification, fast_ids, skip=auto)
    Notification.objects.filter(pk__in=fast_ids).delete()
    orm_ids = insert_values_ignoring_conflicts_orm(Notification, rows())
    assert sorted(orm_ids) == sorted(fast_ids)
    assert stored(Notification, orm_ids, skip=auto) == fast
    assert fast[uuid.UUID(int=100)]["image_url"] == "https://example.com/cake.png"
    assert fast[uuid.UUID(int=102)]["status"] == "failed"
    assert fast[uuid.UUID(int=102)]["calendar"] == Notification._meta.get_field("calendar").get_default()


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


def test_the_unnest_greeting_row_update_writes_what_the_upsert_writes():
    workspace = WorkspaceFactory()
    people = [PersonFactory(workspace=workspace, name=f"P{n}") for n in range(3)]
    start = datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    originals = [
        GreetingSchedule(person=p, workspace=workspace, zone="UTC", local_date=start.date(), next_run_at=start)
        for p in people
    ]
    GreetingSchedule.objects.bulk_create(originals)
    pks = [p.pk for p in people]
    before = stored(GreetingSchedule, pks)
    rows = [
        GreetingSchedule(
            person=p,
            workspace=workspace,
            zone=("Pacific/Auckland", "America/St_Johns", "Asia/Kathmandu")[n],
            local_date=start.date() + timedelta(days=300 + n),
            next_run_at=start + timedelta(days=300 + n, minutes=n),
        )
        for n, p in enumerate(people[:2])
    ]

    save_rows(rows)
    fast = stored(GreetingSchedule, pks)
    assert fast != before
    assert fast[pks[2]] == before[pks[2]]  # a row not given is left alone
    GreetingSchedule.objects.all().delete()
    GreetingSchedule.objects.bulk_create(originals)
    save_rows_orm(rows)
    assert stored(GreetingSchedule, pks) == fast
    assert fast[pks[1]]["zone"] == "America/St_Johns"
    assert fast[pks[0]]["next_run_at"] == start + timedelta(days=300)


def claimed_as_data(claimed) -> dict:
    """What firing reads of a claim, as plain data (rows by person, with their objects' fields)."""

    def fields(obj, names):
        return {name: getattr(obj, name) for name in names}

    return {
        "rows": {
            row.person_id: (
                fields(row, ("workspace_id", "zone", "local_date", "next_run_at")),
                fields(row.person, PERSON_FIELDS),
                fields(row.workspace, WORKSPACE_FIELDS),
            )
            for row in claimed.rows
        },
        "digests": {ws: fields(digest, DIGEST_FIELDS) for ws, digest in claimed.digests.items()},
        "configs": {
            ws: {kind: (c.pk, c.channel_id, c.has_bot, c.active) for kind, c in configs.items()}
            for ws, configs in claimed.configs.items()
            if configs
        },
        "with_templates": claimed.with_templates,
    }


def test_the_greeting_claim_reads_what_the_orm_reads():
    from django.db import transaction

    from notifications.models import ChannelConfig, Template

    start = datetime(2026, 5, 4, 7, 15, tzinfo=UTC)
    slack_app, plain = WorkspaceFactory(timezone="Europe/Berlin"), WorkspaceFactory(timezone="Asia/Kathmandu")
    digest_ensure(workspace=slack_app)
    Reminder.objects.filter(workspace=plain, kind="birthday_digest").delete()  # the other has no digest
    ChannelConfig.objects.create(workspace=slack_app, kind="slack", bot_token="xoxb-1-2-abc", channel_id="C1")
    ChannelConfig.objects.create(workspace=slack_app, kind="sms", account_sid="AC1", active=False)
    ChannelConfig.objects.create(workspace=plain, kind="slack", webhook_url="https://hooks.slack.com/services/T/B/x")
    Template.objects.create(workspace=slack_app, reminder_kind="personal_greeting", channel="email", body="Hi")
    people = [
        PersonFactory(workspace=ws, name=f"P{n}", timezone=zone, preferred_channels=["slack", "email"])
        for n, (ws, zone) in enumerate([(slack_app, "America/St_Johns"), (slack_app, ""), (plain, "Asia/Tokyo")])
    ]
    GreetingSchedule.objects.all().delete()  # saving people may have written rows: these are the test's
    GreetingSchedule.objects.bulk_create(
        GreetingSchedule(
            person=p, workspace=p.workspace, zone=p.timezone or "UTC", local_date=start.date(), next_run_at=start
        )
        for p in people
    )
    later = PersonFactory(workspace=plain, name="Later")
    GreetingSchedule.objects.filter(person=later).delete()
    GreetingSchedule.objects.create(
        person=later, workspace=plain, zone="UTC", local_date=start.date(), next_run_at=start + timedelta(hours=1)
    )

    for limit in (10, 2):
        with transaction.atomic():
            fast = claimed_as_data(claim_due(now=start, limit=limit))
            transaction.set_rollback(True)
        with transaction.atomic():
            orm = claimed_as_data(claim_due_orm(now=start, limit=limit))
            transaction.set_rollback(True)
        assert len(fast["rows"]) == min(limit, 3)
        if limit == 10:
            assert fast == orm
            assert later.pk not in fast["rows"]  # not due yet
            assert set(fast["digests"]) == {slack_app.pk}
            assert fast["configs"][slack_app.pk]["slack"][1:3] == ("C1", True)
            assert "sms" not in fast["configs"][slack_app.pk]  # inactive
            assert fast["configs"][plain.pk]["slack"][2] is False  # a webhook: no bot
            assert fast["with_templates"] == {slack_app.pk}
        else:  # the same number of rows, the earliest first (ties in any order)
            assert set(fast["rows"]) <= set(orm["rows"]) | {p.pk for p in people}


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


def audit_rows(*, workspace, actor, marker: str) -> list[dict]:
    """Entries as ``audit_bulk_changes`` builds them, with the characters COPY's text format escapes."""
    person_type = ContentType.objects.get_for_model(Person).pk
    at = datetime(2026, 2, 3, 4, 5, 6, 789_000, tzinfo=UTC)
    tricky = "tab\there, line\nbreak, back\\slash, \\N, «ü» 🎂"
    return [
        {
            "content_type_id": person_type,
            "object_pk": str(uuid.UUID(int=n + 1)),
            "object_id": n if n % 2 else None,
            "object_repr": f"{marker} {n} {tricky}",
            "serialized_data": None,
            "action": (LogEntry.Action.CREATE, LogEntry.Action.UPDATE)[n % 2],
            "changes_text": "",
            "changes": {"name": [None if n % 2 == 0 else "old", tricky], "birth_day": ["None", str(n)]},
            "actor_id": actor.pk if n % 3 else None,
            "cid": f"cid-{n}" if n % 2 else None,
            "remote_addr": ("203.0.113.7", "2001:db8::1", None)[n % 3],
            "remote_port": None,
            "timestamp": at + timedelta(seconds=n),
            "additional_data": {"workspace": str(workspace.pk), "import": {"rows": n, "note": tricky, "ok": True}},
            "actor_email": actor.email if n % 3 else None,
        }
        for n in range(5)
    ]


def test_the_audit_copy_writes_what_bulk_create_writes():
    workspace, actor = WorkspaceFactory(), UserFactory()
    names = [f.attname for f in LogEntry._meta.concrete_fields if not f.primary_key]

    def written(marker: str) -> list[dict]:
        entries = LogEntry.objects.filter(object_repr__startswith=marker + " ").order_by("object_pk")
        return [{name: row[name] for name in names} for row in entries.values(*names)]

    insert_entries(audit_rows(workspace=workspace, actor=actor, marker="copy"))
    insert_entries_orm(audit_rows(workspace=workspace, actor=actor, marker="orm"))
    fast, orm = written("copy"), written("orm")

    assert len(fast) == 5
    for row in (*fast, *orm):
        row["object_repr"] = row["object_repr"].split(" ", 1)[1]
    assert fast == orm
    # What was asked for, not merely the same mistake twice.
    assert fast == [
        {**row, "object_repr": row["object_repr"].split(" ", 1)[1]}
        for row in audit_rows(workspace=workspace, actor=actor, marker="x")
    ]
