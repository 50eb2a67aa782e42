"""Quiet hours: an occurrence due in them waits for their end, unless urgent; the digest is not held."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Notification
from reminders import schedule
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create, reminder_update
from scheduling import services
from scheduling.models import Occurrence
from scheduling.tick import tick
from tests.factories import PersonFactory
from tests.reminders.conftest import local
from workspaces.services import workspace_update

TZ = "Europe/Berlin"
CREATED = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def quiet_workspace(make_workspace):
    return make_workspace(tz=TZ, quiet_hours_start=time(22), quiet_hours_end=time(7))


def one_time(workspace, person, at, **extra) -> Reminder:
    data = {"kind": "one_time", "run_at": at, "recipients": [person.pk], "channels": ["email"], "message": "Hi"}
    return reminder_create(workspace=workspace, data={**data, **extra}, now=CREATED)


@pytest.mark.django_db
def test_due_in_quiet_hours_past_midnight_waits_for_their_end(quiet_workspace, person):
    """GIVEN quiet hours 22:00-07:00 (wrapping midnight)
    WHEN a one-time reminder is due at 23:30
    THEN nothing goes out in the night; it goes out once at 07:00, recorded for 23:30."""
    ana = person(quiet_workspace, email="ana@example.com")
    due = local(date(2026, 6, 10), time(23, 30), TZ)
    reminder = one_time(quiet_workspace, ana, due)
    quiet_end = local(date(2026, 6, 11), time(7), TZ)
    assert (reminder.next_occurrence_at, reminder.next_run_at) == (due, quiet_end)

    tick(now=due + timedelta(seconds=30))
    tick(now=quiet_end - timedelta(minutes=1))
    assert Notification.objects.count() == 0
    tick(now=quiet_end + timedelta(seconds=30))
    tick(now=quiet_end + timedelta(minutes=2))
    notification = Notification.objects.get()
    assert notification.occurrence_date == date(2026, 6, 10)
    occurrence = Occurrence.objects.get(reminder=reminder)
    assert (occurrence.scheduled_at, occurrence.outcome) == (due, "fired")
    reminder.refresh_from_db()
    assert reminder.next_run_at is None


@pytest.mark.django_db
def test_early_morning_is_inside_wrapping_quiet_hours(quiet_workspace, person):
    ana = person(quiet_workspace, email="ana@example.com")
    reminder = one_time(quiet_workspace, ana, local(date(2026, 6, 11), time(5, 45), TZ))
    assert reminder.next_run_at == local(date(2026, 6, 11), time(7), TZ)


@pytest.mark.django_db
def test_outside_quiet_hours_nothing_waits(quiet_workspace, person):
    ana = person(quiet_workspace, email="ana@example.com")
    for at in (time(7), time(12), time(21, 59)):
        reminder = one_time(quiet_workspace, ana, local(date(2026, 6, 11), at, TZ))
        assert reminder.next_run_at == reminder.next_occurrence_at


@pytest.mark.django_db
def test_urgent_goes_out_in_quiet_hours(quiet_workspace, person):
    ana = person(quiet_workspace, email="ana@example.com")
    due = local(date(2026, 6, 10), time(23, 30), TZ)
    reminder = one_time(quiet_workspace, ana, due, urgent=True)
    assert reminder.next_run_at == due
    tick(now=due + timedelta(seconds=30))
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_making_a_held_reminder_urgent_sends_it_at_once(quiet_workspace, person):
    ana = person(quiet_workspace, email="ana@example.com")
    due = local(date(2026, 6, 10), time(23, 30), TZ)
    reminder = one_time(quiet_workspace, ana, due)
    tick(now=due + timedelta(minutes=5))  # held back
    reminder = reminder_update(reminder=reminder, data={"urgent": True}, now=due + timedelta(minutes=10))
    assert reminder.next_run_at == due
    tick(now=due + timedelta(minutes=11))
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_quiet_hours_within_a_day(make_workspace, person):
    workspace = make_workspace(tz=TZ, quiet_hours_start=time(12), quiet_hours_end=time(13, 30))
    ana = person(workspace, email="ana@example.com")
    reminder = one_time(workspace, ana, local(date(2026, 6, 10), time(12, 15), TZ))
    assert reminder.next_run_at == local(date(2026, 6, 10), time(13, 30), TZ)
    late = one_time(workspace, ana, local(date(2026, 6, 10), time(23, 15), TZ))
    assert late.next_run_at == late.next_occurrence_at


@pytest.mark.django_db
def test_occurrences_piling_up_in_one_quiet_night_go_out_once(quiet_workspace, person):
    """An hourly reminder does not fire ten times at 07:00: the latest occurrence due then goes out,
    the night's held-back ones are recorded (as missed), not sent."""
    ana = person(quiet_workspace, email="ana@example.com")
    reminder = reminder_create(
        workspace=quiet_workspace,
        now=CREATED,
        data={
            "kind": "recurring",
            "run_at": local(date(2026, 6, 10), time(20), TZ),
            "rrule": "FREQ=HOURLY;COUNT=14",  # 20:00 … 09:00
            "recipients": [ana.pk],
            "channels": ["email"],
            "message": "Drink some water",
        },
    )
    now = local(date(2026, 6, 10), time(19, 55), TZ)
    while now < local(date(2026, 6, 11), time(10), TZ):
        tick(now=now)
        now += timedelta(minutes=5)
    sent = sorted(Notification.objects.values_list("occurrence_date", "idempotency_key"))
    # 20:00, 21:00; the night's 22:00-06:00 all wait for 07:00, where they merge into the 07:00 one; 08:00, 09:00.
    assert len(sent) == 5
    outcomes = dict(
        Occurrence.objects.filter(reminder=reminder).values_list("local_time", "outcome").order_by("scheduled_at")
    )
    assert all(outcomes[time(hour)] == "missed" for hour in (22, 23, 0, 1, 2, 3, 4, 5, 6))
    assert all(outcomes[time(hour)] == "fired" for hour in (20, 21, 7, 8, 9))


@pytest.mark.django_db
def test_an_event_reminder_is_not_held_past_the_event(quiet_workspace, make_event, person):
    ana = person(quiet_workspace, email="ana@example.com")
    early = make_event(quiet_workspace, starts_at=local(date(2026, 6, 11), time(6, 45), TZ), attendees=[ana])
    later = make_event(quiet_workspace, starts_at=local(date(2026, 6, 11), time(7, 30), TZ), attendees=[ana])
    data = {"kind": "event", "offset_minutes": 60, "channels": ["email"]}
    for_early = reminder_create(workspace=quiet_workspace, now=CREATED, data={**data, "event_id": early.pk})
    for_later = reminder_create(workspace=quiet_workspace, now=CREATED, data={**data, "event_id": later.pk})
    # 05:45 for a 06:45 start: waiting until 07:00 would be after it began, so it goes at 05:45.
    assert for_early.next_run_at == local(date(2026, 6, 11), time(5, 45), TZ)
    # 06:30 for a 07:30 start: it waits until 07:00, still before the start.
    assert for_later.next_run_at == local(date(2026, 6, 11), time(7), TZ)


@pytest.mark.django_db
def test_the_digest_ignores_quiet_hours(make_workspace):
    workspace = make_workspace(tz=TZ, notify_at=time(6), quiet_hours_start=time(22), quiet_hours_end=time(7))
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    assert digest.next_run_at == digest.next_occurrence_at
    assert digest.next_run_at.astimezone(ZoneInfo(TZ)).time() == time(6)
    PersonFactory(workspace=workspace, birth_month=6, birth_day=11)
    run = services.digest_run_now(workspace=workspace, day=date(2026, 6, 11), dry_run=True)
    assert run.result.slot.at == local(date(2026, 6, 11), time(6), TZ)
    assert schedule.reminder_due_at(reminder=digest, slot=run.result.slot) == run.result.slot.at


@pytest.mark.django_db
def test_changing_quiet_hours_reschedules_waiting_reminders(quiet_workspace, person):
    ana = person(quiet_workspace, email="ana@example.com")
    due = local(date(2030, 6, 10), time(23, 30), TZ)
    reminder = one_time(quiet_workspace, ana, due)
    assert reminder.next_run_at != due
    workspace_update(workspace=quiet_workspace, data={"quiet_hours_start": None, "quiet_hours_end": None})
    reminder.refresh_from_db()
    assert reminder.next_run_at == due
