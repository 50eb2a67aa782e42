"""Manual sends started from the admin or a command are audited like those of the API."""

from datetime import UTC, datetime, time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from audit.queries import audit_entries
from events.services import event_cancel
from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create
from tests.audit_checks import assert_shown_to_workspace_admins_only, latest_operation
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


def test_admin_send_now_is_audited_per_reminder(staff_client, staff_user, make_workspace, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    reminder = reminder_create(
        workspace=workspace,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        data={
            "kind": "one_time",
            "run_at": datetime(2030, 1, 1, 9, tzinfo=UTC),
            "recipients": [ana.pk],
            "message": "Hi",
            "channels": ["email"],
        },
    )

    response = staff_client.post(
        "/admin/reminders/reminder/", {"action": "send_now", "_selected_action": [str(reminder.pk)]}
    )

    assert response.status_code == 302
    assert Notification.objects.filter(reminder=reminder).count() == 1
    entry = latest_operation(workspace, "reminder.send_now")
    assert entry.actor_id == staff_user.pk
    assert (entry.content_type.model, entry.object_pk) == ("reminder", str(reminder.pk))
    assert entry.additional_data["details"] == {
        "occurrence": "2030-01-01T09:00",
        "manual_extra": True,
        "created": 1,
        "skipped": 0,
        "already_delivered": 0,
        "already_failed": 0,
        "pending": 0,
        "already_skipped": 0,
        "origin": "admin",
    }
    assert_shown_to_workspace_admins_only(entry, workspace)


def test_admin_send_now_that_is_refused_is_not_audited(staff_client, make_workspace, make_event, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    event = make_event(workspace, starts_at=datetime(2030, 1, 1, 9, tzinfo=UTC), attendees=[ana])
    reminder = reminder_create(
        workspace=workspace,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        data={"kind": "event", "event_id": event.pk, "offset_minutes": 60, "channels": ["email"]},
    )
    event_cancel(event=event)

    response = staff_client.post(
        "/admin/reminders/reminder/",
        {"action": "send_now", "_selected_action": [str(reminder.pk)]},
        follow=True,
    )

    assert "not sent. The event of this reminder is cancelled" in response.content.decode()
    assert not Notification.objects.exists()
    assert not audit_entries().with_operation("reminder.send_now").exists()


def test_admin_run_digest_now_is_audited(staff_client, staff_user, make_workspace):
    workspace = make_workspace(tz="Europe/Lisbon", notify_at=time(9))
    PersonFactory(workspace=workspace, name="Ana", birth_month=7, birth_day=14, slack_user_id="U1")
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)

    response = staff_client.post(
        "/admin/reminders/reminder/", {"action": "run_digest_now", "_selected_action": [str(digest.pk)]}
    )

    assert response.status_code == 302
    entry = latest_operation(workspace, "digest.run_now")
    assert entry.actor_id == staff_user.pk
    assert (entry.content_type.model, entry.object_pk) == ("workspace", str(workspace.pk))
    details = entry.additional_data["details"]
    assert details["origin"] == "admin"
    assert details["job_run"]
    assert set(details) == {
        "date",
        "created",
        "skipped",
        "already_delivered",
        "already_failed",
        "pending",
        "already_skipped",
        "job_run",
        "origin",
    }
    assert_shown_to_workspace_admins_only(entry, workspace)


def test_run_birthday_job_is_audited_under_its_name_but_not_its_dry_run(make_workspace):
    workspace = make_workspace(tz="Europe/Lisbon", notify_at=time(9))
    PersonFactory(workspace=workspace, name="Ana", birth_month=7, birth_day=14, slack_user_id="U1")
    other = make_workspace()

    call_command("run_birthday_job", workspace=workspace.slug, date="2026-07-14", dry_run=True, stdout=StringIO())
    assert not audit_entries().with_operation("digest.run_now").exists()

    call_command("run_birthday_job", workspace=workspace.slug, date="2026-07-14", stdout=StringIO())

    entry = latest_operation(workspace, "digest.run_now")
    assert entry.actor_id is None
    assert entry.additional_data["workspace_id"] == str(workspace.pk)
    details = entry.additional_data["details"]
    assert details["origin"] == "manage.py run_birthday_job"
    assert (details["date"], details["created"], details["already_delivered"]) == ("2026-07-14", 1, 0)
    assert not audit_entries().for_workspace(other).with_operation("digest.run_now").exists()
    row = assert_shown_to_workspace_admins_only(entry, workspace)
    assert row["actor"] is None
    assert row["details"]["origin"] == "manage.py run_birthday_job"


def test_send_now_of_the_digest_is_one_entry_wherever_it_starts(staff_client, staff_user, make_workspace):
    # The service records the operation, once: the digest's send-now is a reminder.send_now,
    # not also the digest.run_now it runs inside.
    from scheduling.services import reminder_send_now

    workspace = make_workspace(tz="Europe/Lisbon", notify_at=time(9))
    PersonFactory(workspace=workspace, name="Ana", birth_month=7, birth_day=14, slack_user_id="U1")
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    entries = audit_entries().for_workspace(workspace)
    before = entries.count()

    response = staff_client.post(
        "/admin/reminders/reminder/", {"action": "send_now", "_selected_action": [str(digest.pk)]}
    )
    assert response.status_code == 302
    assert entries.count() == before + 1
    assert not entries.with_operation("digest.run_now").exists()
    entry = latest_operation(workspace, "reminder.send_now")
    assert (entry.actor_id, entry.object_pk) == (staff_user.pk, str(digest.pk))
    assert entry.additional_data["details"]["origin"] == "admin"

    run = reminder_send_now(reminder=digest)  # a caller with nobody to name: still recorded
    assert entries.count() == before + 2
    again = latest_operation(workspace, "reminder.send_now")
    assert again.pk != entry.pk
    assert again.actor_id is None
    assert again.additional_data["details"]["pending"] == run.result.already_sent  # today's, still queued
    assert "origin" not in again.additional_data["details"]
