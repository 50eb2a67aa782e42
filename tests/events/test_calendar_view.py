"""A member's calendar: ``GET …/events/?host=&from=&to=`` with recurring events expanded in the window."""

from datetime import UTC, date, datetime

import pytest

from events import services
from events.models import EventStatus
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db


def create(office, **data):
    return services.event_create(workspace=office.workspace, created_by=office.owner, data=data)


def calendar(office, query: str, client=None):
    response = (client or office.member_client).get(office.events_url + query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_hosts_weekly_appointments_expand_across_the_spring_dst_change(office):
    weekly = create(
        office,
        title="Physio",
        kind="appointment",
        starts_at=datetime(2030, 3, 18, 9, 0),  # Monday, Berlin winter time
        ends_at=datetime(2030, 3, 18, 9, 45),
        rrule="FREQ=WEEKLY",
        host=office.member.pk,
        attendees=[office.ana.pk],
    )
    create(office, title="Someone else's", starts_at=datetime(2030, 3, 25, 9, 0), host=office.admin.pk)

    rows = calendar(office, f"?host={office.member.pk}&from=2030-03-20&to=2030-04-10")

    assert [row["id"] for row in rows] == [str(weekly.pk)]
    assert rows[0]["starts_at"] == "2030-03-18T08:00:00Z"  # the series itself is unchanged
    assert rows[0]["occurrences"] == [
        {"starts_at": "2030-03-25T08:00:00Z", "ends_at": "2030-03-25T08:45:00Z", "date": None},
        {"starts_at": "2030-04-01T07:00:00Z", "ends_at": "2030-04-01T07:45:00Z", "date": None},  # CEST from 31 March
        {"starts_at": "2030-04-08T07:00:00Z", "ends_at": "2030-04-08T07:45:00Z", "date": None},
    ]


def test_the_fall_back_change_keeps_local_time_too(office):
    create(office, title="Evening class", starts_at=datetime(2030, 10, 23, 18, 0), rrule="FREQ=WEEKLY")
    rows = calendar(office, "?from=2030-10-20&to=2030-11-03")
    assert [occ["starts_at"] for occ in rows[0]["occurrences"]] == ["2030-10-23T16:00:00Z", "2030-10-30T17:00:00Z"]


def test_the_window_mixes_one_offs_all_day_and_recurring_events_in_order(office):
    create(office, title="Monthly close", date=date(2030, 1, 31), rrule="FREQ=MONTHLY;BYMONTHDAY=-1")
    create(office, title="Kick-off", starts_at=datetime(2030, 2, 3, 9, 0), ends_at=datetime(2030, 2, 3, 10, 0))
    create(office, title="Next month", starts_at=datetime(2030, 3, 3, 9, 0))

    rows = calendar(office, "?from=2030-02-01&to=2030-02-28")

    assert [row["title"] for row in rows] == ["Kick-off", "Monthly close"]
    assert rows[1]["occurrences"] == [{"starts_at": None, "ends_at": None, "date": "2030-02-28"}]


def test_window_bounds_take_dates_instants_and_naive_local_times(office):
    event = create(office, title="Call", starts_at=datetime(2030, 6, 1, 23, 30))  # 21:30 UTC
    ids = lambda query: [row["id"] for row in calendar(office, query)]  # noqa: E731

    assert ids("?from=2030-06-01&to=2030-06-01") == [str(event.pk)]  # the local day, inclusive
    assert ids("?from=2030-06-02&to=2030-06-02") == []
    assert ids("?from=2030-06-01T21:00:00Z&to=2030-06-01T22:00:00Z") == [str(event.pk)]
    assert ids("?from=2030-06-01T23:31:00&to=2030-06-02T00:00:00") == []  # naive = Berlin


def test_calendar_mode_lists_active_events_unless_status_is_asked_for(office):
    EventFactory(
        workspace=office.workspace,
        title="Called off",
        starts_at=datetime(2030, 6, 1, 8, tzinfo=UTC),
        ends_at=datetime(2030, 6, 1, 9, tzinfo=UTC),
        status=EventStatus.CANCELLED,
        cancelled_at=datetime.now(UTC),
    )
    assert calendar(office, "?from=2030-06-01&to=2030-06-02") == []
    assert len(calendar(office, "?from=2030-06-01&to=2030-06-02&status=cancelled")) == 1


def test_unbounded_daily_rules_are_expanded_only_inside_the_window(office):
    create(office, title="Daily check", starts_at=datetime(2000, 1, 1, 7, 0), rrule="FREQ=DAILY")
    rows = calendar(office, "?from=2030-01-01&to=2030-01-07")
    assert len(rows[0]["occurrences"]) == 7


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=yesterday", "from"),
        ("?from=2030-02-30", "from"),
        ("?from=2030-03-01&to=2030-02-01", "to"),
        ("?from=2030-01-01&to=2031-06-01", "to"),
        ("?to=99999-01-01", "to"),
    ],
)
def test_a_bad_window_is_400(office, query, field):
    response = office.member_client.get(office.events_url + query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_outside_calendar_mode_occurrences_is_null(office):
    create(office, title="Weekly", starts_at=datetime(2030, 3, 18, 9, 0), rrule="FREQ=WEEKLY")
    assert calendar(office, "")[0]["occurrences"] is None
