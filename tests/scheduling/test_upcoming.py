"""The upcoming preview (``GET …/upcoming/``): every reminder kind's occurrences in a window, as a dry run."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from events.models import Attendee, Event, EventStatus
from notifications.models import Notification
from reminders import schedule
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create, reminder_update
from scheduling import selectors
from scheduling.models import JobRun, Occurrence
from tests.factories import PersonFactory
from tests.scheduling.test_api import owner_client


def at_utc(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def person(workspace, **fields):
    fields.setdefault("birth_month", None)
    fields.setdefault("birth_day", None)
    return PersonFactory(workspace=workspace, **fields)


def url(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.pk}/upcoming/"


@pytest.fixture
def every_kind(make_workspace):
    """GIVEN a UTC workspace whose digest, event reminder, one-time and recurring reminder each fire once
    in the next 7 days (tomorrow 09:00, in 3 days 11:00, in 2 days 10:00, tomorrow 15:00)."""
    workspace = make_workspace(tz="UTC", notify_at=time(9))
    now = timezone.now()
    today = now.date()
    tomorrow = today + timedelta(days=1)
    person(workspace, name="Ana", birth_month=tomorrow.month, birth_day=tomorrow.day, slack_user_id="U01")
    bo = person(workspace, name="Bo", email="bo@example.com")
    cy = person(workspace, name="Cy", email="cy@example.com", opted_out_channels=["email"])
    event = Event.objects.create(
        workspace=workspace,
        title="Board meeting",
        starts_at=at_utc(today + timedelta(days=3), 12),
        ends_at=at_utc(today + timedelta(days=3), 13),
    )
    Attendee.objects.create(event=event, person=bo)
    reminders = {
        "event": reminder_create(
            workspace=workspace, now=now, data={"kind": "event", "event_id": event.pk, "offset_minutes": 60}
        ),
        "one_time": reminder_create(
            workspace=workspace,
            now=now,
            data={
                "kind": "one_time",
                "name": "Send the invoice",
                "run_at": at_utc(today + timedelta(days=2), 10),
                "recipients": [bo.pk, cy.pk],
                "channels": ["email"],
                "message": "Hello",
            },
        ),
        "recurring": reminder_create(
            workspace=workspace,
            now=now,
            data={
                "kind": "recurring",
                "name": "Weekly review",
                "run_at": at_utc(tomorrow, 15),
                "rrule": "FREQ=WEEKLY",
                "recipients": [bo.pk],
                "channels": ["email"],
                "message": "Hello",
            },
        ),
        "birthday_digest": Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST),
    }
    return workspace, reminders, now


@pytest.mark.django_db
def test_lists_one_occurrence_of_each_kind_in_time_order_with_recipients(every_kind):
    workspace, reminders, now = every_kind
    today = now.date()
    response = owner_client(workspace).get(f"{url(workspace)}?days=7")
    assert response.status_code == 200, response.content
    assert response["X-Truncated"] == "false"
    entries = response.json()
    assert [(e["kind"], e["at"]) for e in entries] == [
        ("birthday_digest", f"{today + timedelta(days=1)}T09:00:00Z"),
        ("recurring", f"{today + timedelta(days=1)}T15:00:00Z"),
        ("one_time", f"{today + timedelta(days=2)}T10:00:00Z"),
        ("event", f"{today + timedelta(days=3)}T11:00:00Z"),
    ]
    by_kind = {e["kind"]: e for e in entries}
    for kind, reminder in reminders.items():
        assert by_kind[kind]["reminder"] == str(reminder.pk)
        assert by_kind[kind]["name"] == reminder.name
        assert by_kind[kind]["send_at"] == by_kind[kind]["at"]
        assert by_kind[kind]["deferred"] is False

    # The digest keeps its fields: the local date, the instant and the Slack post naming Ana.
    digest = by_kind["birthday_digest"]
    assert digest["date"] == str(today + timedelta(days=1))
    assert digest["local"] == f"{today + timedelta(days=1)}T09:00"
    assert "<@U01>" in digest["messages"][0]["body"]

    # To whom and on which channel; a recipient no channel reaches is listed as skipped, with why.
    assert [(m["channel"], m["recipient"]) for m in by_kind["event"]["messages"]] == [("email", "bo@example.com")]
    assert "Board meeting" in by_kind["event"]["messages"][0]["body"]
    one_time = [(m["recipient"], m["skipped"]) for m in by_kind["one_time"]["messages"]]
    assert one_time == [("bo@example.com", False), ("cy@example.com", True)]
    assert by_kind["one_time"]["messages"][1]["reason"].startswith("opted_out")

    # A dry run: nothing written.
    assert Notification.objects.count() == 0
    assert Occurrence.objects.count() == 0
    assert JobRun.objects.count() == 0


@pytest.mark.django_db
def test_filters_by_kind_and_by_reminder(every_kind):
    workspace, reminders, _ = every_kind
    client = owner_client(workspace)
    only_kind = client.get(f"{url(workspace)}?days=7&kind=one_time").json()
    assert [e["kind"] for e in only_kind] == ["one_time"]
    only_one = client.get(f"{url(workspace)}?days=7&reminder={reminders['recurring'].pk}").json()
    assert [e["reminder"] for e in only_one] == [str(reminders["recurring"].pk)]
    # A reminder of another workspace (or none) filters everything out, and reveals nothing.
    assert client.get(f"{url(workspace)}?reminder=00000000-0000-4000-8000-000000000000").json() == []


@pytest.mark.django_db
def test_a_short_window_leaves_later_occurrences_out(every_kind):
    workspace, _, _ = every_kind
    entries = owner_client(workspace).get(f"{url(workspace)}?days=2").json()
    assert [e["kind"] for e in entries] == ["birthday_digest", "recurring"]


@pytest.mark.django_db
def test_paused_reminders_cancelled_events_and_missed_occurrences_are_absent(every_kind):
    workspace, reminders, now = every_kind
    reminder_update(reminder=reminders["recurring"], data={"active": False}, now=now)
    # Cancelled behind the scheduler's back (no signal): the reminder still has a next_run_at.
    Event.objects.filter(pk=reminders["event"].event_id).update(status=EventStatus.CANCELLED, cancelled_at=now)
    assert Reminder.objects.get(pk=reminders["event"].pk).next_run_at is not None
    # A one-time reminder overdue by more than the grace period: the tick records it as missed.
    overdue = reminders["one_time"]
    Reminder.objects.filter(pk=overdue.pk).update(
        run_at=now - timedelta(hours=10), next_run_at=now - timedelta(hours=10), next_occurrence_at=None
    )

    entries = selectors.upcoming_messages(workspace=workspace, days=7, now=now).entries
    assert [e["kind"] for e in entries] == ["birthday_digest"]
    # Pausing the digest empties the preview.
    reminder_update(reminder=reminders["birthday_digest"], data={"active": False}, now=now)
    assert selectors.upcoming_messages(workspace=workspace, days=7, now=now).entries == []


@pytest.mark.django_db
def test_quiet_hours_move_the_send_time_and_merge_a_nights_occurrences(make_workspace):
    """GIVEN Berlin quiet hours 22:00-07:00, a one-time reminder at 23:30 and an hourly one 23:00-01:00
    WHEN previewed THEN both go out at 07:00 local, the hourly one once (its latest occurrence)."""
    workspace = make_workspace(tz="Europe/Berlin", quiet_hours_start=time(22), quiet_hours_end=time(7))
    bo = person(workspace, name="Bo", email="bo@example.com")
    now = datetime(2026, 6, 1, 8, tzinfo=UTC)
    common = {"recipients": [bo.pk], "channels": ["email"], "message": "Hello"}
    late = reminder_create(
        workspace=workspace,
        now=now,
        data={"kind": "one_time", "name": "Late", "run_at": datetime(2026, 6, 2, 21, 30, tzinfo=UTC), **common},
    )
    reminder_create(
        workspace=workspace,
        now=now,
        data={
            "kind": "recurring",
            "name": "Hourly",
            "run_at": datetime(2026, 6, 2, 21, tzinfo=UTC),  # 23:00 in Berlin
            "rrule": "FREQ=HOURLY;COUNT=3",
            **common,
        },
    )
    urgent = reminder_create(
        workspace=workspace,
        now=now,
        data={
            "kind": "one_time",
            "name": "Urgent",
            "urgent": True,
            "run_at": datetime(2026, 6, 2, 22, tzinfo=UTC),
            **common,
        },
    )

    entries = selectors.upcoming_messages(workspace=workspace, days=7, now=now, kind="one_time").entries
    assert [(e["name"], e["local"], e["send_at_local"], e["deferred"]) for e in entries] == [
        ("Late", "2026-06-02T23:30", "2026-06-03T07:00", True),
        ("Urgent", "2026-06-03T00:00", "2026-06-03T00:00", False),
    ]
    assert entries[0]["send_at"] == datetime(2026, 6, 3, 5, tzinfo=UTC)
    assert {e["reminder"] for e in entries} == {late.pk, urgent.pk}

    hourly = selectors.upcoming_messages(workspace=workspace, days=7, now=now, kind="recurring").entries
    assert [(e["local"], e["send_at_local"]) for e in hourly] == [("2026-06-03T01:00", "2026-06-03T07:00")]


@pytest.mark.django_db
def test_an_unbounded_rule_stops_at_the_window_and_at_the_limit(make_workspace):
    workspace = make_workspace(tz="UTC")
    bo = person(workspace, name="Bo", email="bo@example.com")
    now = datetime(2026, 6, 1, 0, 30, tzinfo=UTC)
    reminder_create(
        workspace=workspace,
        now=now,
        data={
            "kind": "recurring",
            "name": "Every hour, forever",
            "run_at": datetime(2026, 6, 1, 1, tzinfo=UTC),
            "rrule": "FREQ=HOURLY",
            "recipients": [bo.pk],
            "channels": ["email"],
            "message": "Hello",
        },
    )
    # Two local days from 01:00: 47 occurrences, all listed.
    window = selectors.upcoming_messages(workspace=workspace, days=2, now=now, kind="recurring")
    assert len(window.entries) == 47
    assert not window.truncated
    assert window.entries[-1]["local"] == "2026-06-02T23:00"

    capped = selectors.upcoming_messages(workspace=workspace, days=31, now=now, kind="recurring", limit=30)
    assert capped.truncated
    assert len(capped.entries) == 30
    first = datetime(2026, 6, 1, 1, tzinfo=UTC)
    assert [e["at"] for e in capped.entries] == [first + timedelta(hours=n) for n in range(30)]


@pytest.mark.django_db
def test_the_api_caps_the_list_and_says_so(make_workspace):
    workspace = make_workspace(tz="UTC")
    bo = person(workspace, name="Bo", email="bo@example.com")
    reminder_create(
        workspace=workspace,
        data={
            "kind": "recurring",
            "run_at": timezone.now().replace(second=0, microsecond=0) + timedelta(hours=1),
            "rrule": "FREQ=HOURLY",
            "recipients": [bo.pk],
            "channels": ["email"],
            "message": "Hello",
        },
    )
    response = owner_client(workspace).get(f"{url(workspace)}?days=31")
    assert response.status_code == 200
    assert response["X-Truncated"] == "true"
    assert len(response.json()) == selectors.UPCOMING_LIMIT


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("days=0", "days"),
        ("days=32", "days"),
        ("days=week", "days"),
        ("kind=birthday", "kind"),
        ("reminder=42", "reminder"),
    ],
)
def test_bad_parameters_get_a_clear_400(make_workspace, query, field):
    workspace = make_workspace()
    response = owner_client(workspace).get(f"{url(workspace)}?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tz", "run_at", "rule"),
    [
        ("America/New_York", datetime(2026, 10, 31, 4, 30, tzinfo=UTC), "FREQ=HOURLY;INTERVAL=1"),  # fall back
        ("Europe/Berlin", datetime(2026, 3, 20, 1, 30, tzinfo=UTC), "FREQ=DAILY"),  # 02:30 skipped on Mar 29
        ("Australia/Lord_Howe", datetime(2026, 3, 30, 15, 45, tzinfo=UTC), "FREQ=HOURLY;INTERVAL=2"),
        ("Asia/Kathmandu", datetime(2026, 1, 31, 3, 15, tzinfo=UTC), "FREQ=MONTHLY;BYMONTHDAY=31"),
        ("Europe/London", datetime(2026, 10, 24, 0, 30, tzinfo=UTC), "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=1,2"),
    ],
)
def test_the_windowed_expansion_matches_the_scheduling_engine(make_workspace, tz, run_at, rule):
    """The preview expands a recurring rule in one pass; it must give exactly the engine's occurrences."""
    workspace = make_workspace(tz=tz)
    reminder = Reminder.objects.create(
        workspace=workspace, kind=ReminderKind.RECURRING, name="r", run_at=run_at, rrule=rule, message="x"
    )
    engine, slot = [], schedule.reminder_next_slot(reminder=reminder, after=run_at - timedelta(minutes=1))
    while slot is not None and len(engine) < 150:
        engine.append((slot.at, slot.local))
        slot = schedule.reminder_next_slot(reminder=reminder, after=slot.at)
    first = schedule.reminder_next_slot(reminder=reminder, after=run_at - timedelta(minutes=1))
    expanded = [(first.at, first.local)]
    for slot in selectors._recurring_slots_after(reminder, first):
        expanded.append((slot.at, slot.local))
        if len(expanded) >= len(engine):
            break
    assert expanded == engine
