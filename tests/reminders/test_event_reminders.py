"""Event reminders through the tick: offsets, all-day events, recurring events, moves and cancellation."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from events.models import Attendee, EventStatus, Rsvp
from events.services import event_cancel, event_update
from notifications.models import Notification
from reminders.models import Reminder
from reminders.services import reminder_create
from scheduling.models import Occurrence
from scheduling.tick import tick
from tests.factories import MembershipFactory, UserFactory
from tests.reminders.conftest import local
from tests.reminders.helpers import run_occurrences
from workspaces.models import Role

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def event_reminder(workspace, event, *, now=NOW, **data) -> Reminder:
    data = {"kind": "event", "event_id": event.pk, "channels": ["email"], **data}
    return reminder_create(workspace=workspace, data=data, now=now)


@pytest.mark.django_db
def test_one_hour_before_to_the_attendees_who_did_not_decline(make_workspace, make_event, person):
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, name="Ana", email="ana@example.com")
    bo = person(workspace, name="Bo", email="bo@example.com")
    cy = person(workspace, name="Cy", email="cy@example.com")
    starts = local(date(2026, 6, 10), time(15), "Europe/Berlin")
    event = make_event(
        workspace,
        title="Tax advice",
        kind="appointment",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        attendees=[ana, bo, cy],
    )
    Attendee.objects.filter(event=event, person=cy).update(answer=Rsvp.NO)
    reminder = event_reminder(workspace, event, offset_minutes=60)
    assert reminder.audience == "attendees"
    assert reminder.message_type == "appointment"
    assert reminder.next_run_at == starts - timedelta(hours=1)

    fired = run_occurrences(reminder, until=datetime(2027, 1, 1, tzinfo=UTC))

    assert fired == [starts - timedelta(hours=1)]
    notifications = Notification.objects.order_by("recipient")
    assert [n.recipient for n in notifications] == ["ana@example.com", "bo@example.com"]
    assert "Tax advice" in notifications[0].subject
    assert "Wednesday 10 June, 15:00" in notifications[0].body
    reminder.refresh_from_db()
    assert reminder.next_run_at is None


@pytest.mark.django_db
def test_host_and_event_people_audiences(make_workspace, make_event, person):
    workspace = make_workspace()
    host = UserFactory()
    MembershipFactory(workspace=workspace, user=host, role=Role.MEMBER)
    host_person = person(workspace, name="Host", email="host@example.com", user=host)
    ana = person(workspace, name="Ana", email="ana@example.com")
    event = make_event(workspace, starts_at=datetime(2026, 6, 10, 9, tzinfo=UTC), host=host, attendees=[ana])
    to_host = event_reminder(workspace, event, offset_minutes=30, audience="host")
    to_all = event_reminder(workspace, event, offset_minutes=30, audience="event_people")
    tick(now=datetime(2026, 6, 10, 8, 31, tzinfo=UTC))
    assert set(Notification.objects.filter(reminder=to_host).values_list("person", flat=True)) == {host_person.pk}
    assert set(Notification.objects.filter(reminder=to_all).values_list("person", flat=True)) == {
        host_person.pk,
        ana.pk,
    }


@pytest.mark.django_db
def test_all_day_deadline_three_days_before_at_0900_local(make_workspace, make_event, person):
    tz = "America/New_York"
    workspace = make_workspace(tz=tz)
    ana = person(workspace, email="ana@example.com")
    event = make_event(workspace, kind="deadline", all_day=True, date=date(2026, 11, 3), attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=3 * 24 * 60, at_time=time(9))
    # 31 Oct 09:00 EDT; the clocks change on 1 Nov in between.
    assert reminder.next_run_at == local(date(2026, 10, 31), time(9), tz)
    fired = run_occurrences(reminder, until=datetime(2027, 1, 1, tzinfo=UTC))
    assert fired == [datetime(2026, 10, 31, 13, tzinfo=UTC)]
    assert "Tuesday 3 November" in Notification.objects.get().body


@pytest.mark.django_db
def test_all_day_event_without_at_time_uses_notify_at(make_workspace, make_event, person):
    workspace = make_workspace(tz="Europe/Berlin", notify_at=time(8, 15))
    ana = person(workspace, email="ana@example.com")
    event = make_event(workspace, all_day=True, date=date(2026, 7, 1), attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=24 * 60)
    assert reminder.next_run_at == local(date(2026, 6, 30), time(8, 15), "Europe/Berlin")


@pytest.mark.django_db
def test_a_recurring_event_gets_a_reminder_per_occurrence(make_workspace, make_event, person):
    tz = "America/New_York"
    workspace = make_workspace(tz=tz)
    ana = person(workspace, email="ana@example.com")
    starts = local(date(2026, 10, 20), time(10), tz)  # a Tuesday, weekly across the November change
    event = make_event(workspace, starts_at=starts, ends_at=starts + timedelta(hours=1), rrule="FREQ=WEEKLY;COUNT=4")
    Attendee.objects.create(event=event, person=ana)
    reminder = event_reminder(workspace, event, offset_minutes=24 * 60)
    fired = run_occurrences(reminder, until=datetime(2027, 1, 1, tzinfo=UTC))
    # A day (1440 minutes) before each 10:00 local start.
    assert [f"{i:%m-%d %H:%M}" for i in fired] == ["10-19 14:00", "10-26 14:00", "11-02 15:00", "11-09 15:00"]
    assert Notification.objects.count() == 4
    assert len(set(Notification.objects.values_list("idempotency_key", flat=True))) == 4


@pytest.mark.django_db
def test_moving_the_event_moves_its_reminder_and_the_old_time_sends_nothing(make_workspace, make_event, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    old_start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=old_start, attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=60)
    assert reminder.next_run_at == old_start - timedelta(hours=1)

    new_start = datetime(2026, 6, 12, 9, tzinfo=UTC)
    with time_machine.travel(NOW, tick=False):
        event_update(event=event, data={"starts_at": new_start})
    reminder.refresh_from_db()
    assert reminder.next_run_at == new_start - timedelta(hours=1)

    tick(now=old_start - timedelta(minutes=59))
    assert Notification.objects.count() == 0
    tick(now=new_start - timedelta(minutes=59))
    assert Notification.objects.count() == 1
    assert "Friday 12 June, 09:00" in Notification.objects.get().body


@pytest.mark.django_db
def test_cancelling_the_event_unschedules_its_reminders(make_workspace, make_event, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=start, attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=60)
    with time_machine.travel(NOW, tick=False):
        event_cancel(event=event)
    reminder.refresh_from_db()
    assert reminder.next_run_at is None
    tick(now=start)
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_a_due_reminder_whose_event_was_cancelled_sends_nothing(make_workspace, make_event, person):
    """The cancellation is re-checked when the tick takes the reminder, whatever the schedule says."""
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=start, attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=60)
    type(event).objects.filter(pk=event.pk).update(status=EventStatus.CANCELLED, cancelled_at=NOW)  # no signal

    run = tick(now=start - timedelta(minutes=59))
    assert Notification.objects.count() == 0
    assert run.created == 0
    reminder.refresh_from_db()
    assert reminder.next_run_at is None
    assert not Occurrence.objects.filter(reminder=reminder, outcome="fired").exists()


@pytest.mark.django_db
def test_deleting_the_event_deletes_its_reminders_but_keeps_what_was_sent(make_workspace, make_event, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=start, attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=60)
    tick(now=start - timedelta(minutes=59))
    event.delete()
    assert not Reminder.objects.filter(pk=reminder.pk).exists()
    assert Notification.objects.get().reminder_id is None


@pytest.mark.django_db
def test_a_reminder_late_past_its_events_start_is_missed(make_workspace, make_event, person, settings):
    settings.SCHEDULING_GRACE = timedelta(hours=6)
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=start, ends_at=start + timedelta(hours=2), attendees=[ana])
    event_reminder(workspace, event, offset_minutes=120)
    run = tick(now=start + timedelta(minutes=30))  # 2.5 h late: within grace, but the event began
    assert (run.due, run.missed, run.created) == (1, 1, 0)


@pytest.mark.django_db
def test_an_at_the_start_reminder_is_not_missed_by_a_slightly_late_tick(make_workspace, make_event, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=start, attendees=[ana])
    event_reminder(workspace, event, offset_minutes=0)
    run = tick(now=start + timedelta(seconds=50))
    assert (run.missed, run.created) == (0, 1)


@pytest.mark.django_db
def test_time_zone_of_the_workspace_decides_the_all_day_reminder(make_workspace, make_event, person):
    workspace = make_workspace(tz="Pacific/Auckland")
    ana = person(workspace, email="ana@example.com")
    event = make_event(workspace, all_day=True, date=date(2026, 7, 1), attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=0, at_time=time(7))
    local_run = reminder.next_run_at.astimezone(ZoneInfo("Pacific/Auckland"))
    assert (local_run.date(), local_run.time()) == (date(2026, 7, 1), time(7))


@pytest.mark.django_db
def test_through_the_events_services_moving_then_cancelling(
    make_workspace, make_event, person, django_capture_on_commit_callbacks
):
    """GIVEN an event reminder
    WHEN the event is moved and then cancelled through the events app's services
    THEN the reminder follows the move, and after the cancellation nothing is scheduled or sent."""
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    start = datetime(2026, 6, 10, 15, tzinfo=UTC)
    event = make_event(workspace, starts_at=start, attendees=[ana])
    reminder = event_reminder(workspace, event, offset_minutes=30)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        event = event_update(event=event, data={"starts_at": start + timedelta(days=1)}, now=NOW)
    reminder.refresh_from_db()
    assert reminder.next_run_at == start + timedelta(days=1, minutes=-30)
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        event_cancel(event=event, now=NOW)
    reminder.refresh_from_db()
    assert reminder.next_run_at is None
    tick(now=start + timedelta(days=1))
    assert Notification.objects.count() == 0
