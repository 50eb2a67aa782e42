"""The manual trigger and the dry-run preview go through the same engine as the tick."""

from datetime import UTC, datetime, time, timedelta

import pytest

from birthdaybuddy.errors import Conflict
from events.models import EventStatus
from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create, reminder_update
from scheduling import selectors, services
from scheduling.models import JobRun, Occurrence

CREATED = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def quarterly(make_workspace, person):
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, name="Ana", email="ana@example.com")
    bo = person(workspace, name="Bo", email="bo@example.com", opted_out_channels=["email"])
    return reminder_create(
        workspace=workspace,
        now=CREATED,
        data={
            "kind": "recurring",
            "run_at": datetime(2026, 7, 15, 7, tzinfo=UTC),  # 09:00 in Berlin
            "rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
            "recipients": [ana.pk, bo.pk],
            "channels": ["email"],
            "message": "VAT return due",
        },
    )


@pytest.mark.django_db
def test_send_now_fires_the_waiting_occurrence_once(quarterly):
    first = services.reminder_send_now(reminder=quarterly, now=CREATED)
    assert first.result.slot.at == datetime(2026, 7, 15, 7, tzinfo=UTC)
    assert len(first.result.created_ids) == 2  # Ana's email and Bo's skipped record
    assert first.result.skipped == 1
    assert first.job_run.kind == JobRun.Kind.MANUAL

    second = services.reminder_send_now(reminder=quarterly, now=CREATED + timedelta(minutes=1))
    assert second.result.created_ids == []
    assert second.result.already_sent == 2

    # The tick reaching that occurrence later sends nothing new either, then moves on.
    services.tick(now=datetime(2026, 7, 15, 7, 0, 30, tzinfo=UTC))
    assert Notification.objects.count() == 2
    quarterly.refresh_from_db()
    assert quarterly.next_run_at == datetime(2026, 10, 15, 7, tzinfo=UTC)
    assert Occurrence.objects.filter(reminder=quarterly).count() == 1


@pytest.mark.django_db
def test_send_now_on_a_sent_one_time_reminder_creates_nothing(make_workspace, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    at = datetime(2026, 6, 10, 9, tzinfo=UTC)
    reminder = reminder_create(
        workspace=workspace,
        now=CREATED,
        data={"kind": "one_time", "run_at": at, "recipients": [ana.pk], "channels": ["email"], "message": "Hi"},
    )
    services.tick(now=at + timedelta(seconds=30))
    run = services.reminder_send_now(reminder=reminder, now=at + timedelta(hours=1))
    assert run.result.created_ids == []
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_send_now_refuses_a_cancelled_event(make_workspace, make_event, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    event = make_event(workspace, starts_at=datetime(2026, 6, 10, 9, tzinfo=UTC), attendees=[ana])
    reminder = reminder_create(
        workspace=workspace, now=CREATED, data={"kind": "event", "event_id": event.pk, "offset_minutes": 60}
    )
    type(event).objects.filter(pk=event.pk).update(status=EventStatus.CANCELLED, cancelled_at=CREATED)
    with pytest.raises(Conflict) as caught:
        services.reminder_send_now(reminder=reminder, now=CREATED)
    assert caught.value.code == "event_cancelled"
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_send_now_of_the_digest_runs_todays_digest(make_workspace):
    workspace = make_workspace()
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    run = services.reminder_send_now(reminder=digest)
    assert run.job_run is not None
    assert run.result.outcome == "empty"


@pytest.mark.django_db
def test_preview_lists_the_next_occurrences_with_recipients_and_writes_nothing(quarterly):
    entries = selectors.reminder_preview(reminder=quarterly, count=4, now=CREATED)
    assert [e["local"] for e in entries] == [
        "2026-07-15T09:00",
        "2026-10-15T09:00",
        "2027-01-15T09:00",
        "2027-04-15T09:00",
    ]
    assert entries[2]["at"] == datetime(2027, 1, 15, 8, tzinfo=UTC)  # CET in winter
    messages = entries[0]["messages"]
    assert [(m["channel"], m["recipient"], m["skipped"]) for m in messages] == [
        ("email", "ana@example.com", False),
        ("email", "bo@example.com", True),
    ]
    assert messages[1]["reason"].startswith("opted_out")
    assert Notification.objects.count() == 0
    assert Occurrence.objects.count() == 0
    assert JobRun.objects.count() == 0


@pytest.mark.django_db
def test_preview_shows_quiet_hours_and_a_paused_reminders_next_occurrences(quarterly):
    workspace = quarterly.workspace
    workspace.quiet_hours_start = time(8)
    workspace.quiet_hours_end = time(10)
    workspace.save()
    quarterly = reminder_update(reminder=quarterly, data={"active": False}, now=CREATED)
    assert quarterly.next_run_at is None
    entry = selectors.reminder_preview(reminder=quarterly, count=1, now=CREATED)[0]
    assert entry["deferred"]
    assert entry["send_at"] == datetime(2026, 7, 15, 8, tzinfo=UTC)  # 10:00 in Berlin
