"""Standalone recurring reminders through the tick: DST, month ends, Feb 29 and a quarterly rule."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.models import Notification
from reminders import schedule
from reminders.models import Reminder
from reminders.services import reminder_create
from scheduling.models import Occurrence
from scheduling.tick import tick
from tests.reminders.conftest import local
from tests.reminders.helpers import run_occurrences
from workspaces.services import workspace_update


def recurring(workspace, ana, *, rrule: str, at: datetime, now: datetime) -> Reminder:
    return reminder_create(
        workspace=workspace,
        now=now,
        data={
            "kind": "recurring",
            "run_at": at,
            "rrule": rrule,
            "recipients": [ana.pk],
            "channels": ["email"],
            "message": "Hello {{ person.name }}, your {{ reminder.name }} is due.",
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tz", "winter_utc_hour", "summer_utc_hour"), [("America/New_York", 14, 13), ("Europe/London", 9, 8)]
)
def test_quarterly_on_the_15th_at_0900_for_three_years(make_workspace, person, tz, winter_utc_hour, summer_utc_hour):
    """GIVEN "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15" anchored at 15 Jan 2026 09:00 local
    WHEN the tick runs just before, at and after each occurrence for three years
    THEN each quarter gets exactly one notification, at 09:00 local in winter and in summer time."""
    workspace = make_workspace(tz=tz)
    ana = person(workspace, name="Ana", email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
        at=local(date(2026, 1, 15), time(9), tz),
        now=datetime(2025, 12, 1, tzinfo=UTC),
    )

    fired = run_occurrences(reminder, until=datetime(2029, 1, 1, tzinfo=UTC))

    expected_days = [date(year, month, 15) for year in (2026, 2027, 2028) for month in (1, 4, 7, 10)]
    assert [instant.astimezone(ZoneInfo(tz)).date() for instant in fired] == expected_days
    assert [instant.hour for instant in fired] == [
        winter_utc_hour if day.month == 1 else summer_utc_hour for day in expected_days
    ]
    assert all(instant.astimezone(ZoneInfo(tz)).time() == time(9) for instant in fired)
    notifications = list(Notification.objects.order_by("occurrence_date"))
    assert [n.occurrence_date for n in notifications] == expected_days
    assert {(n.channel, n.recipient) for n in notifications} == {("email", "ana@example.com")}
    assert "Hello Ana" in notifications[0].body
    occurrences = Occurrence.objects.filter(reminder=reminder).order_by("scheduled_at")
    assert [o.scheduled_at for o in occurrences] == fired
    assert {o.outcome for o in occurrences} == {"fired"}
    reminder.refresh_from_db()
    assert reminder.next_run_at == local(date(2029, 1, 15), time(9), tz)


DST_CASES = [
    # zone, rule time, days around the change, the expected UTC instants
    (
        "America/New_York",
        time(2, 30),
        date(2026, 3, 7),
        ["2026-03-07T07:30", "2026-03-08T07:00", "2026-03-09T06:30"],  # 02:30 does not exist: the jump
    ),
    (
        "America/New_York",
        time(1, 30),
        date(2026, 10, 31),
        ["2026-10-31T05:30", "2026-11-01T05:30", "2026-11-02T06:30"],  # 01:30 twice: the first, once
    ),
    ("Europe/London", time(1, 30), date(2026, 3, 28), ["2026-03-28T01:30", "2026-03-29T01:00", "2026-03-30T00:30"]),
    ("Europe/London", time(1, 30), date(2026, 10, 24), ["2026-10-24T00:30", "2026-10-25T00:30", "2026-10-26T01:30"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("tz", "at", "first_day", "expected"), DST_CASES)
def test_daily_rule_across_dst_fires_once_per_local_day(make_workspace, person, tz, at, first_day, expected):
    """GIVEN a daily reminder at a wall time that is skipped or repeated by a clock change
    WHEN the tick runs every 5 minutes through the three days around it
    THEN each day gets exactly one notification, at the expected UTC instant."""
    workspace = make_workspace(tz=tz)
    ana = person(workspace, email="ana@example.com")
    start = local(first_day, time(0), tz)
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=DAILY",
        at=local(first_day - timedelta(days=1), at, tz),  # the day before the change: an ordinary day
        now=start - timedelta(days=2),
    )
    schedule.reminder_reschedule(reminder=reminder, now=start)

    now = start
    while now < start + timedelta(days=3):
        tick(now=now)
        now += timedelta(minutes=5)

    instants = sorted(o.scheduled_at for o in Occurrence.objects.filter(reminder=reminder, outcome="fired"))
    assert [f"{i.astimezone(UTC):%Y-%m-%dT%H:%M}" for i in instants] == expected
    assert Notification.objects.count() == 3
    assert len({n.idempotency_key for n in Notification.objects.all()}) == 3


@pytest.mark.django_db
def test_weekly_rule_keeps_its_wall_time_across_the_spring_change(make_workspace, person):
    workspace = make_workspace(tz="America/New_York")
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=WEEKLY;BYDAY=MO",
        at=local(date(2026, 2, 23), time(9), "America/New_York"),
        now=datetime(2026, 2, 1, tzinfo=UTC),
    )
    fired = run_occurrences(reminder, until=datetime(2026, 3, 20, tzinfo=UTC))
    assert [f"{i:%m-%d %H:%M}" for i in fired] == ["02-23 14:00", "03-02 14:00", "03-09 13:00", "03-16 13:00"]


@pytest.mark.django_db
def test_the_31st_fires_only_in_months_that_have_one(make_workspace, person):
    """RFC 5545: BYMONTHDAY=31 skips months without a 31st (no clamping to the 30th)."""
    tz = "America/New_York"
    workspace = make_workspace(tz=tz)
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=MONTHLY;BYMONTHDAY=31",
        at=local(date(2026, 1, 31), time(9), tz),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    fired = run_occurrences(reminder, until=datetime(2027, 1, 1, tzinfo=UTC))
    assert [i.astimezone(ZoneInfo(tz)).date() for i in fired] == [
        date(2026, month, 31) for month in (1, 3, 5, 7, 8, 10, 12)
    ]
    assert all(i.astimezone(ZoneInfo(tz)).time() == time(9) for i in fired)


@pytest.mark.django_db
def test_the_last_day_of_every_month(make_workspace, person):
    tz = "Europe/London"
    workspace = make_workspace(tz=tz)
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=MONTHLY;BYMONTHDAY=-1",
        at=local(date(2026, 1, 31), time(17, 30), tz),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    fired = run_occurrences(reminder, until=datetime(2029, 1, 1, tzinfo=UTC))
    days = [i.astimezone(ZoneInfo(tz)).date() for i in fired]
    assert len(days) == 36
    assert date(2026, 2, 28) in days
    assert date(2028, 2, 29) in days
    assert all((day + timedelta(days=1)).day == 1 for day in days)


@pytest.mark.django_db
def test_feb_29_yearly_fires_only_in_leap_years(make_workspace, person):
    """An RRULE on Feb 29 follows RFC 5545 (leap years only); the birthday policy feb28/mar1 is for birthdays."""
    tz = "America/New_York"
    workspace = make_workspace(tz=tz)
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        at=local(date(2024, 2, 29), time(9), tz),  # an anchor in the past is allowed
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert reminder.next_run_at == local(date(2028, 2, 29), time(9), tz)
    fired = run_occurrences(reminder, until=datetime(2033, 1, 1, tzinfo=UTC))
    assert [i.astimezone(ZoneInfo(tz)).date() for i in fired] == [date(2028, 2, 29), date(2032, 2, 29)]


@pytest.mark.django_db
def test_the_anchor_is_the_first_occurrence_even_off_the_rule(make_workspace, person):
    """RFC 5545: DTSTART (`at`) is always the first instance."""
    workspace = make_workspace(tz="UTC")
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=MONTHLY;BYMONTHDAY=15",
        at=datetime(2026, 1, 2, 9, tzinfo=UTC),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    fired = run_occurrences(reminder, until=datetime(2026, 3, 1, tzinfo=UTC))
    assert [f"{i:%m-%d %H:%M}" for i in fired] == ["01-02 09:00", "01-15 09:00", "02-15 09:00"]


@pytest.mark.django_db
def test_a_rule_that_ends_leaves_the_reminder_unscheduled(make_workspace, person):
    workspace = make_workspace(tz="UTC")
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=DAILY;COUNT=3",
        at=datetime(2026, 1, 2, 9, tzinfo=UTC),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    fired = run_occurrences(reminder, until=datetime(2026, 2, 1, tzinfo=UTC))
    assert len(fired) == 3
    reminder.refresh_from_db()
    assert reminder.next_run_at is None
    assert reminder.active


@pytest.mark.django_db
def test_changing_the_workspace_zone_keeps_a_recurring_reminders_wall_time(make_workspace, person):
    workspace = make_workspace(tz="America/New_York")
    ana = person(workspace, email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        rrule="FREQ=DAILY",
        at=local(date(2030, 1, 2), time(9), "America/New_York"),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    workspace_update(workspace=workspace, data={"timezone": "Asia/Tokyo"})
    reminder.refresh_from_db()
    assert reminder.run_at == local(date(2030, 1, 2), time(9), "Asia/Tokyo")
    assert reminder.next_run_at == local(date(2030, 1, 2), time(9), "Asia/Tokyo")
