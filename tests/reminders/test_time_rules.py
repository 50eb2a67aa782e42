"""RFC 5545's time rules for recurring reminders: UNTIL as an instant, the wall-clock anchor in a
DST gap, EXDATE/RDATE, and the same words as events for rules the standard forbids."""

from datetime import UTC, datetime

import pytest

from reminders.models import Reminder
from reminders.services import reminder_create
from tests.conftest import client_for
from tests.reminders.helpers import run_occurrences

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def recurring(workspace, ana, *, at, rrule: str, **extra) -> Reminder:
    return reminder_create(
        workspace=workspace,
        now=NOW,
        data={
            "kind": "recurring",
            "run_at": at,
            "rrule": rrule,
            "recipients": [ana.pk],
            "channels": ["email"],
            "message": "Hello {{ person.name }}",
            **extra,
        },
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tz", "first", "until", "expected"),
    [
        # West of UTC: the end instant, 06:00 EDT on 4 June, read as a 10:00 wall time would let
        # 4 June's 09:00 through.
        (
            "America/New_York",
            datetime(2026, 6, 1, 9),
            "20260604T100000Z",
            [utc(2026, 6, 1, 13), utc(2026, 6, 2, 13), utc(2026, 6, 3, 13)],
        ),
        # East of UTC: the end is exactly 3 June's 09:00 JST (00:00 UTC), included; read as 00:00
        # local it would lose that last occurrence.
        (
            "Asia/Tokyo",
            datetime(2026, 6, 1, 9),
            "20260603T000000Z",
            [utc(2026, 6, 1, 0), utc(2026, 6, 2, 0), utc(2026, 6, 3, 0)],
        ),
    ],
)
def test_until_in_utc_bounds_the_series_inclusively(make_workspace, person, tz, first, until, expected):
    workspace = make_workspace(tz=tz)
    ana = person(workspace, name="Ana", email="ana@example.com")
    reminder = recurring(workspace, ana, at=first, rrule=f"FREQ=DAILY;UNTIL={until}")

    assert run_occurrences(reminder, until=utc(2026, 7, 1)) == expected
    reminder.refresh_from_db()
    assert reminder.next_run_at is None


@pytest.mark.django_db
def test_a_series_whose_first_occurrence_is_in_the_gap_keeps_its_wall_time(make_workspace, person):
    """GIVEN weekly at 02:30 New York from 14 March 2027, when 02:30 does not exist (02:00 → 03:00 EDT)
    WHEN it is created through the API in wall time and the tick runs
    THEN the first fires when the clocks jump (07:00 UTC) and every later one at 02:30 EDT (06:30 UTC)."""
    workspace = make_workspace(tz="America/New_York")
    ana = person(workspace, name="Ana", email="ana@example.com")
    owner = workspace.memberships.get().user
    response = client_for(owner).post(
        f"/api/v1/workspaces/{workspace.id}/reminders/",
        {
            "kind": "recurring",
            "at": "2027-03-14T02:30",
            "rrule": "FREQ=WEEKLY",
            "recipients": [str(ana.pk)],
            "channels": ["email"],
            "template": "Hi",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["at"] == "2027-03-14T07:00:00Z"
    reminder = Reminder.objects.get(pk=response.json()["id"])

    fired = run_occurrences(reminder, until=utc(2027, 4, 5))

    assert fired == [utc(2027, 3, 14, 7), utc(2027, 3, 21, 6, 30), utc(2027, 3, 28, 6, 30), utc(2027, 4, 4, 6, 30)]


@pytest.mark.django_db
def test_exdates_skip_and_rdates_add_single_occurrences(make_workspace, person):
    """Every Monday at 09:00 Berlin except 25 May (a date: that day's occurrence), plus Wednesday 27 May."""
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, name="Ana", email="ana@example.com")
    reminder = recurring(
        workspace,
        ana,
        at=datetime(2026, 5, 11, 9),
        rrule="FREQ=WEEKLY;BYDAY=MO",
        exdates=["2026-05-25"],
        rdates=["2026-05-27T09:00"],
    )
    reminder.refresh_from_db()
    assert reminder.exdates == ["2026-05-25T09:00:00"]
    assert reminder.rdates == ["2026-05-27T09:00:00"]

    fired = run_occurrences(reminder, until=utc(2026, 6, 9))

    assert fired == [
        utc(2026, 5, 11, 7),
        utc(2026, 5, 18, 7),
        utc(2026, 5, 27, 7),
        utc(2026, 6, 1, 7),
        utc(2026, 6, 8, 7),
    ]


@pytest.mark.django_db
def test_exdates_and_rdates_in_the_api(make_workspace, person):
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, name="Ana", email="ana@example.com")
    client = client_for(workspace.memberships.get().user)
    url = f"/api/v1/workspaces/{workspace.id}/reminders/"
    body = {
        "kind": "recurring",
        "at": "2027-05-10T09:00",
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "recipients": [str(ana.pk)],
        "channels": ["email"],
        "template": "Hi",
        "exdates": ["2027-05-24", "2027-05-31T07:00:00Z"],
    }
    created = client.post(url, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["exdates"] == ["2027-05-24T09:00:00", "2027-05-31T09:00:00"]
    preview = client.get(f"{url}{created.json()['id']}/preview?count=4").json()
    assert [item["at"] for item in preview["occurrences"]][:4] == [
        "2027-05-10T07:00:00Z",
        "2027-05-17T07:00:00Z",
        "2027-06-07T07:00:00Z",
        "2027-06-14T07:00:00Z",
    ]

    bad = client.post(url, {**body, "exdates": ["next monday"]}, format="json")
    assert bad.status_code == 400
    assert "exdates" in bad.json()["errors"]
    one_time = client.post(url, {**body, "kind": "one_time", "rrule": "", "exdates": ["2026-05-25"]}, format="json")
    assert one_time.status_code == 400
    assert "Only recurring reminders take exdates" in str(one_time.json()["errors"]["exdates"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rrule", "words"),
    [
        ("FREQ=DAILY;COUNT=5;UNTIL=20271231T000000Z", "UNTIL and COUNT cannot both be given"),
        ("FREQ=DAILY;BYDAY=1MO", "A numbered BYDAY (1MO) needs FREQ=MONTHLY or YEARLY"),
        ("FREQ=MONTHLY;BYSETPOS=2", "BYSETPOS needs another BYxxx rule part"),
        ("FREQ=DAILY;UNTIL=20271231", "UNTIL must be a UTC date-time"),
    ],
)
def test_events_and_reminders_refuse_forbidden_rules_through_the_api_with_the_same_words(
    make_workspace, person, rrule, words
):
    workspace = make_workspace(tz="Europe/Berlin")
    ana = person(workspace, name="Ana", email="ana@example.com")
    client = client_for(workspace.memberships.get().user)
    reminder = client.post(
        f"/api/v1/workspaces/{workspace.id}/reminders/",
        {
            "kind": "recurring",
            "at": "2027-05-10T09:00",
            "rrule": rrule,
            "recipients": [str(ana.pk)],
            "channels": ["email"],
            "template": "Hi",
        },
        format="json",
    )
    event = client.post(
        f"/api/v1/workspaces/{workspace.id}/events/",
        {"title": "Standup", "starts_at": "2027-05-10T09:00", "rrule": rrule},
        format="json",
    )
    assert reminder.status_code == event.status_code == 400
    reminder_says = reminder.json()["errors"]["rrule"][0]
    assert words in reminder_says
    assert event.json()["errors"]["rrule"][0] == reminder_says
    assert not Reminder.objects.filter(kind="recurring").exists()
