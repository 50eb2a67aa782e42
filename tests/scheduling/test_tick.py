"""The tick: due reminders become notifications once, at the right instant, in every zone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from notifications.models import Notification
from reminders import schedule
from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.models import JobRun, Occurrence
from scheduling.tick import tick
from tests.concurrency import concurrently
from tests.factories import PersonFactory
from workspaces.services import workspace_update


def digest_of(workspace) -> Reminder:
    return Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)


def local_instant(day: date, at: time, tz: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


@pytest.mark.django_db
def test_creating_a_workspace_schedules_its_digest_at_the_next_local_notify_at(make_workspace):
    workspace = make_workspace(tz="America/New_York", notify_at=time(9, 30))
    reminder = digest_of(workspace)
    local = reminder.next_run_at.astimezone(ZoneInfo("America/New_York"))
    assert local.time() == time(9, 30)
    assert reminder.next_run_at > workspace.created_at
    assert reminder.next_run_at - workspace.created_at <= timedelta(days=1)


@pytest.mark.django_db
def test_changing_timezone_or_notify_at_moves_next_run(make_workspace):
    workspace = make_workspace(tz="UTC", notify_at=time(9))
    workspace_update(workspace=workspace, data={"timezone": "Asia/Kathmandu", "notify_at": time(7, 15)})
    local = digest_of(workspace).next_run_at.astimezone(ZoneInfo("Asia/Kathmandu"))
    assert local.time() == time(7, 15)


@pytest.mark.django_db
def test_tick_sends_one_digest_at_notify_at_and_nothing_on_a_second_tick(make_workspace):
    workspace = make_workspace(tz="Europe/Berlin")
    reminder = digest_of(workspace)
    day = reminder.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).date()
    PersonFactory(workspace=workspace, name="Ana", birth_month=day.month, birth_day=day.day, slack_user_id="U111")
    PersonFactory(workspace=workspace, name="Bo", birth_month=day.month, birth_day=day.day)
    PersonFactory(workspace=workspace, name="Cy", birth_month=1 if day.month != 1 else 2, birth_day=1)

    before = tick(now=reminder.next_run_at - timedelta(seconds=1))
    assert before.due == 0
    assert Notification.objects.count() == 0

    run = tick(now=reminder.next_run_at + timedelta(seconds=20))
    assert (run.due, run.created, run.missed) == (1, 1, 0)
    notification = Notification.objects.get()
    assert notification.channel == "slack"
    assert notification.recipient == "webhook"
    assert "<@U111>" in notification.body
    assert "Bo" in notification.body
    assert "Cy" not in notification.body
    assert notification.occurrence_date == day

    again = tick(now=reminder.next_run_at + timedelta(seconds=80))
    assert again.due == 0
    assert Notification.objects.count() == 1
    reminder.refresh_from_db()
    assert reminder.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).date() == day + timedelta(days=1)


@pytest.mark.django_db
def test_a_day_without_celebrations_records_an_empty_occurrence(make_workspace):
    workspace = make_workspace()
    reminder = digest_of(workspace)
    run = tick(now=reminder.next_run_at + timedelta(seconds=5))
    assert run.due == 1
    assert run.created == 0
    assert Occurrence.objects.get(reminder=reminder).outcome == Occurrence.Outcome.EMPTY


DST_CASES = [
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("Australia/Lord_Howe", date(2026, 4, 5)),
    ("Australia/Lord_Howe", date(2026, 10, 4)),
    ("Asia/Kathmandu", date(2026, 3, 8)),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("tz", "transition"), DST_CASES)
@pytest.mark.parametrize("notify_at", [time(9), time(2, 30), time(1, 30)])
def test_digest_fires_once_per_local_day_across_dst(make_workspace, tz, transition, notify_at):
    """GIVEN people with birthdays on each of the days around a clock change
    WHEN the tick runs every 15 minutes through those days
    THEN each local day gets exactly one digest, at the right UTC instant, naming that day's person."""
    days = [transition + timedelta(days=offset) for offset in (-1, 0, 1)]
    start = local_instant(days[0], time(0), tz)
    workspace = make_workspace(tz=tz, notify_at=notify_at)
    Reminder.objects.filter(workspace=workspace).update(created_at=start - timedelta(hours=1), next_run_at=None)
    reminder = digest_of(workspace)
    schedule.reminder_reschedule(reminder=reminder, now=start)
    for day in days:
        PersonFactory(workspace=workspace, name=f"Person {day:%m%d}", birth_month=day.month, birth_day=day.day)

    now = start
    while now < local_instant(days[-1] + timedelta(days=1), time(0), tz):
        tick(now=now)
        now += timedelta(minutes=15)

    notifications = list(Notification.objects.order_by("created_at"))
    assert [n.occurrence_date for n in notifications] == days
    for notification, day in zip(notifications, days, strict=True):
        assert f"Person {day:%m%d}" in notification.body
        assert all(f"Person {other:%m%d}" not in notification.body for other in days if other != day)
    slots = list(Occurrence.objects.filter(reminder=reminder).order_by("scheduled_at"))
    assert [s.local_date for s in slots] == days
    for slot in slots:
        # The instant the tick fired matches the engine: right wall time (or the jump after a gap).
        expected = schedule.reminder_next_slot(reminder=reminder, after=slot.scheduled_at - timedelta(seconds=1))
        assert slot.scheduled_at == expected.at
        assert slot.outcome == Occurrence.Outcome.FIRED


@pytest.mark.django_db
def test_workspaces_whose_local_date_differs_get_nothing(make_workspace):
    kathmandu = make_workspace(tz="Asia/Kathmandu", notify_at=time(9))
    honolulu = make_workspace(tz="Pacific/Honolulu", notify_at=time(9))
    for workspace in (kathmandu, honolulu):
        PersonFactory(workspace=workspace, name="Dee", birth_month=11, birth_day=23)
    # 2026-11-23 09:00 in Kathmandu is 2026-11-22 13:00 in Honolulu.
    now = local_instant(date(2026, 11, 23), time(9, 1), "Asia/Kathmandu")
    for workspace in (kathmandu, honolulu):
        reminder = digest_of(workspace)
        reminder.created_at = now - timedelta(days=1)
        reminder.save()
        schedule.reminder_reschedule(reminder=reminder, now=now - timedelta(hours=2))
    tick(now=now)
    assert list(Notification.objects.values_list("workspace_id", flat=True)) == [kathmandu.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("policy", "day", "celebrated"),
    [
        ("feb28", date(2027, 2, 28), True),
        ("feb28", date(2027, 3, 1), False),
        ("mar1", date(2027, 2, 28), False),
        ("mar1", date(2027, 3, 1), True),
        ("feb28", date(2028, 2, 28), False),
        ("feb28", date(2028, 2, 29), True),
        ("mar1", date(2028, 3, 1), False),
    ],
)
def test_feb29_people_by_policy(make_workspace, policy, day, celebrated):
    workspace = make_workspace(leap_day_policy=policy)
    PersonFactory(workspace=workspace, name="Leap", birth_month=2, birth_day=29, joined_on=None)
    run = services.digest_run_now(workspace=workspace, day=day)
    bodies = [m.notification.body for m in run.result.planned]
    assert any("Leap" in body for body in bodies) is celebrated


@pytest.mark.django_db
def test_work_anniversary_counts_years(make_workspace):
    workspace = make_workspace()
    PersonFactory(workspace=workspace, name="Vet", birth_month=None, birth_day=None, joined_on=date(2021, 6, 1))
    run = services.digest_run_now(workspace=workspace, day=date(2026, 6, 1), dry_run=True)
    (message,) = run.result.planned
    assert "Vet" in message.notification.body
    assert "5" in message.notification.body


@pytest.mark.django_db
def test_missed_beyond_grace_is_recorded_not_sent(make_workspace, settings):
    settings.SCHEDULING_GRACE = timedelta(hours=6)
    workspace = make_workspace(tz="UTC", notify_at=time(9))
    PersonFactory(workspace=workspace, birth_month=3, birth_day=10)
    PersonFactory(workspace=workspace, birth_month=3, birth_day=11)
    reminder = digest_of(workspace)
    reminder.next_run_at = datetime(2026, 3, 10, 9, tzinfo=UTC)
    reminder.save()

    # Down from Mar 10 08:00 until Mar 11 10:00: Mar 10's digest is 25 h late, Mar 11's 1 h late.
    run = tick(now=datetime(2026, 3, 11, 10, tzinfo=UTC))
    assert (run.due, run.missed, run.created) == (2, 1, 1)
    outcomes = dict(Occurrence.objects.filter(reminder=reminder).values_list("local_date", "outcome"))
    assert outcomes == {date(2026, 3, 10): "missed", date(2026, 3, 11): "fired"}
    assert list(Notification.objects.values_list("occurrence_date", flat=True)) == [date(2026, 3, 11)]
    reminder.refresh_from_db()
    assert reminder.next_run_at == datetime(2026, 3, 12, 9, tzinfo=UTC)


@pytest.mark.django_db
def test_a_digest_never_fires_after_its_local_day_ended(make_workspace, settings):
    settings.SCHEDULING_GRACE = timedelta(hours=6)
    workspace = make_workspace(tz="UTC", notify_at=time(21))
    PersonFactory(workspace=workspace, birth_month=3, birth_day=10)
    reminder = digest_of(workspace)
    reminder.next_run_at = datetime(2026, 3, 10, 21, tzinfo=UTC)
    reminder.save()
    run = tick(now=datetime(2026, 3, 11, 0, 30, tzinfo=UTC))  # 3.5 h late, but the day is over
    assert run.missed == 1
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_idle_tick_costs_the_same_few_queries_whatever_the_size(make_workspace):
    from django.test.utils import CaptureQueriesContext

    def idle_tick_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            tick(now=datetime(2000, 1, 1, tzinfo=UTC))
        return len(queries)

    make_workspace()
    small = idle_tick_queries()
    for _ in range(30):
        make_workspace()
    large = idle_tick_queries()
    # one look for due reminders, one for greetings due in people's own zones, insert the JobRun:
    # no transaction, no row locks
    assert small == large == 3
    assert JobRun.objects.filter(kind="tick").count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="in-memory SQLite cannot hold concurrent writers")
def test_two_concurrent_ticks_and_run_now_create_each_notification_once(make_workspace):
    """GIVEN 20 workspaces due at the same instant
    WHEN two ticks and a run-now for one of them race, then a third tick runs
    THEN each (occurrence, channel, recipient) has exactly one notification."""
    workspaces = [make_workspace(tz="UTC", notify_at=time(9)) for _ in range(20)]
    when = datetime(2026, 5, 17, 9, tzinfo=UTC)
    for workspace in workspaces:
        PersonFactory(workspace=workspace, birth_month=5, birth_day=17)
        Reminder.objects.filter(workspace=workspace).update(next_run_at=when)

    now = when + timedelta(seconds=30)
    concurrently(
        lambda: tick(now=now, limit=3),
        lambda: tick(now=now, limit=3),
        lambda: services.digest_run_now(workspace=workspaces[0], day=date(2026, 5, 17)),
    )
    tick(now=now)

    assert Notification.objects.count() == 20
    assert set(Notification.objects.values_list("workspace_id", flat=True)) == {w.pk for w in workspaces}
    assert Occurrence.objects.filter(outcome="fired").count() == 20
    assert not Reminder.objects.filter(next_run_at__lte=now).exists()


@pytest.mark.django_db
def test_a_german_workspaces_digest_speaks_german(make_workspace):
    workspace = make_workspace(tz="Europe/Berlin")
    workspace.locale = "de"
    workspace.save()
    reminder = digest_of(workspace)
    day = reminder.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).date()
    PersonFactory(workspace=workspace, name="Ana", birth_month=day.month, birth_day=day.day)

    tick(now=reminder.next_run_at + timedelta(seconds=20))

    assert Notification.objects.get(channel="slack").body == "🎂 Heute: Ana"


@pytest.mark.django_db
@pytest.mark.parametrize("new_time", [time(10), time(8)])
def test_moving_notify_at_after_todays_digest_ran_sends_no_second_digest_today(make_workspace, new_time):
    """GIVEN today's 09:00 digest has gone out
    WHEN an admin moves notify_at to 10:00 (later: its key would be new) or 08:00 at 09:30
    THEN nothing more is sent today, and tomorrow's digest comes at the new time."""
    workspace = make_workspace(tz="Europe/Berlin", notify_at=time(9))
    reminder = digest_of(workspace)
    day = reminder.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).date()
    PersonFactory(workspace=workspace, name="Ana", birth_month=day.month, birth_day=day.day)
    tick(now=local_instant(day, time(9, 0, 20), "Europe/Berlin"))
    assert Notification.objects.count() == 1

    with time_machine.travel(local_instant(day, time(9, 30), "Europe/Berlin"), tick=False):
        workspace_update(workspace=workspace, data={"notify_at": new_time})
    reminder.refresh_from_db()
    assert reminder.next_run_at == local_instant(day + timedelta(days=1), new_time, "Europe/Berlin")

    tick(now=local_instant(day, time(10, 0, 20), "Europe/Berlin"))
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_moving_notify_at_before_todays_digest_ran_keeps_today(make_workspace):
    """Yesterday's digest ran; at 08:30 today notify_at moves to 10:00: today's digest comes at 10:00."""
    day = date(2027, 6, 10)
    with time_machine.travel(local_instant(day - timedelta(days=1), time(8), "Europe/Berlin"), tick=False):
        workspace = make_workspace(tz="Europe/Berlin", notify_at=time(9))
    PersonFactory(workspace=workspace, name="Ana", birth_month=day.month, birth_day=day.day)
    tick(now=local_instant(day - timedelta(days=1), time(9, 0, 20), "Europe/Berlin"))
    reminder = digest_of(workspace)
    assert reminder.last_run_at is not None

    with time_machine.travel(local_instant(day, time(8, 30), "Europe/Berlin"), tick=False):
        workspace_update(workspace=workspace, data={"notify_at": time(10)})
    reminder.refresh_from_db()
    assert reminder.next_run_at == local_instant(day, time(10), "Europe/Berlin")
    tick(now=local_instant(day, time(10, 0, 20), "Europe/Berlin"))
    assert "Ana" in Notification.objects.get(occurrence_date=day).body
