"""The manual trigger and the dry-run preview go through the same engine as the tick."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from birthdaybuddy.errors import Conflict
from events.models import EventStatus
from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create, reminder_update
from scheduling import selectors, services
from scheduling.models import JobRun, Occurrence
from scheduling.tick import tick

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
def test_send_now_sends_an_extra_copy_and_the_occurrence_still_goes_out(quarterly):
    first = services.reminder_send_now(reminder=quarterly, now=CREATED)
    assert first.result.slot.at == datetime(2026, 7, 15, 7, tzinfo=UTC)
    assert len(first.result.created_ids) == 2  # Ana's email and Bo's skipped record
    assert first.result.skipped == 1
    assert first.job_run.kind == JobRun.Kind.MANUAL
    assert first.manual_extra
    quarterly.refresh_from_db()
    assert quarterly.next_run_at == datetime(2026, 7, 15, 7, tzinfo=UTC)  # the schedule is untouched
    assert not Occurrence.objects.filter(reminder=quarterly).exists()

    # The tick reaching the occurrence sends it as scheduled: the manual copy did not stand in for it.
    tick(now=datetime(2026, 7, 15, 7, 0, 30, tzinfo=UTC))
    assert Notification.objects.filter(reminder=quarterly).count() == 4
    assert Notification.objects.filter(reminder=quarterly, idempotency_key__startswith="manual:").count() == 2
    quarterly.refresh_from_db()
    assert quarterly.next_run_at == datetime(2026, 10, 15, 7, tzinfo=UTC)
    assert Occurrence.objects.get(reminder=quarterly).outcome == Occurrence.Outcome.FIRED


@pytest.mark.django_db
def test_send_now_on_the_6th_never_takes_the_month_end_occurrence(make_workspace, person):
    """GIVEN a monthly reminder on the last day of the month at 16:00 (Berlin)
    WHEN staff send it now on December 6
    THEN a copy goes out now, and the December 31 occurrence still goes out on December 31."""
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, email="ana@example.com")
    created = datetime(2026, 11, 1, tzinfo=UTC)
    reminder = reminder_create(
        workspace=workspace,
        now=created,
        data={
            "kind": "recurring",
            "run_at": datetime(2026, 11, 30, 15, tzinfo=UTC),
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=-1",
            "recipients": [ana.pk],
            "channels": ["email"],
            "message": "Month-end close",
        },
    )
    tick(now=datetime(2026, 11, 30, 15, 0, 30, tzinfo=UTC))
    reminder.refresh_from_db()
    dec_31 = datetime(2026, 12, 31, 15, tzinfo=UTC)
    assert reminder.next_run_at == dec_31

    run = services.reminder_send_now(reminder=reminder, now=datetime(2026, 12, 6, 10, tzinfo=UTC))

    assert run.result.slot.at == dec_31
    assert "schedule is unchanged" in services.send_now_detail(run)
    reminder.refresh_from_db()
    assert reminder.next_run_at == dec_31
    tick(now=dec_31 + timedelta(seconds=30))
    on_the_day = Notification.objects.filter(reminder=reminder, occurrence_date=date(2026, 12, 31))
    assert on_the_day.count() == 2  # the manual copy (about Dec 31) and the scheduled message
    assert on_the_day.exclude(idempotency_key__startswith="manual:").count() == 1
    assert Occurrence.objects.get(reminder=reminder, local_date=date(2026, 12, 31)).notifications == 1


@pytest.mark.django_db
def test_a_second_send_now_within_a_minute_is_refused_then_allowed(quarterly):
    services.reminder_send_now(reminder=quarterly, now=CREATED)
    with pytest.raises(Conflict) as caught:
        services.reminder_send_now(reminder=quarterly, now=CREATED + timedelta(seconds=20))
    assert caught.value.code == "sent_recently"
    assert Notification.objects.count() == 2
    later = services.reminder_send_now(reminder=quarterly, now=CREATED + timedelta(minutes=2))
    assert len(later.result.created_ids) == 2
    assert Notification.objects.count() == 4


@pytest.mark.django_db
def test_send_now_on_a_sent_one_time_reminder_sends_a_copy(make_workspace, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    at = datetime(2026, 6, 10, 9, tzinfo=UTC)
    reminder = reminder_create(
        workspace=workspace,
        now=CREATED,
        data={"kind": "one_time", "run_at": at, "recipients": [ana.pk], "channels": ["email"], "message": "Hi"},
    )
    tick(now=at + timedelta(seconds=30))
    run = services.reminder_send_now(reminder=reminder, now=at + timedelta(hours=1))
    assert len(run.result.created_ids) == 1
    assert Notification.objects.count() == 2
    reminder.refresh_from_db()
    assert reminder.next_run_at is None


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
