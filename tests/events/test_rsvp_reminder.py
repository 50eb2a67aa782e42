"""Guests who have not answered are reminded some hours before the RSVP deadline, once."""

from datetime import UTC, datetime, timedelta

import pytest

from events import services
from events.models import Event
from notifications.models import Notification
from reminders.models import Reminder
from scheduling.tick import tick
from tests.events.test_guests import answer, create

pytestmark = pytest.mark.django_db

# 18:00 in Berlin (summer time).
DEADLINE = datetime(2030, 6, 30, 16, 0, tzinfo=UTC)


def rsvp_reminder(event) -> Reminder:
    return Reminder.objects.get(event=event, audience="unanswered_guests")


def sent_to(reminder) -> list[str]:
    rows = Notification.objects.filter(reminder=reminder).select_related("person").order_by("person__name")
    return [row.person.name for row in rows]


def test_only_guests_still_without_an_answer_when_it_fires_are_reminded_and_only_once(
    office, django_capture_on_commit_callbacks
):
    event, tokens = create(
        office, django_capture_on_commit_callbacks, rsvp_deadline="2030-06-30T18:00:00", rsvp_reminder_hours=24
    )
    reminder = rsvp_reminder(event)
    assert reminder.kind == "one_time"
    assert reminder.run_at == DEADLINE - timedelta(hours=24)
    assert reminder.next_run_at == DEADLINE - timedelta(hours=24)
    # Bo answers after the reminder was set up, before it fires.
    assert answer(tokens["Ana Lima"], answer="yes").status_code == 200
    assert answer(tokens["Bo Berg"], answer="no").status_code == 200

    tick(now=reminder.next_run_at - timedelta(seconds=1))
    assert sent_to(reminder) == []
    tick(now=reminder.next_run_at + timedelta(seconds=20))
    tick(now=reminder.next_run_at + timedelta(seconds=80))

    assert sent_to(reminder) == ["Cy Diaz"]
    body = Notification.objects.get(reminder=reminder).body
    assert "Summer party" in body
    assert "2030-06-30 18:00" in body


def test_the_reminder_follows_the_deadline_and_stops_when_cleared_or_cancelled(
    office, django_capture_on_commit_callbacks
):
    event, _ = create(
        office, django_capture_on_commit_callbacks, rsvp_deadline="2030-06-30T18:00:00", rsvp_reminder_hours=24
    )
    url = office.event_url(event.pk)

    moved = office.owner_client.patch(url, {"rsvp_deadline": "2030-07-01T12:00:00"}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["rsvp_reminder_hours"] == 24
    reminder = rsvp_reminder(event)
    assert reminder.next_run_at == datetime(2030, 6, 30, 10, 0, tzinfo=UTC)
    assert "2030-07-01 12:00" in reminder.message

    cleared = office.owner_client.patch(url, {"rsvp_reminder_hours": None}, format="json")
    assert cleared.status_code == 200, cleared.content
    reminder.refresh_from_db()
    assert (reminder.active, reminder.next_run_at) == (False, None)

    office.owner_client.patch(url, {"rsvp_reminder_hours": 2}, format="json")
    reminder.refresh_from_db()
    assert reminder.active is True
    assert reminder.next_run_at == datetime(2030, 7, 1, 8, 0, tzinfo=UTC)
    assert Reminder.objects.filter(event=event, audience="unanswered_guests").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.event_cancel(event=event)
    reminder.refresh_from_db()
    assert (reminder.active, reminder.next_run_at) == (False, None)


def test_no_deadline_means_no_reminder(office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks, rsvp_reminder_hours=24)
    assert not Reminder.objects.filter(event=event).exists()


@pytest.mark.parametrize("value", [0, 721, "soon", 1.5])
def test_bad_hours_are_a_400_naming_the_field_and_nothing_is_written(office, value):
    before = (Event.objects.count(), Reminder.objects.count())
    response = office.owner_client.post(
        office.events_url,
        {
            "title": "Party",
            "kind": "gathering",
            "starts_at": "2030-07-03T18:00:00",
            "rsvp_deadline": "2030-06-30T18:00:00",
            "rsvp_reminder_hours": value,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "rsvp_reminder_hours" in response.json()["errors"]
    assert (Event.objects.count(), Reminder.objects.count()) == before


def test_the_reminders_api_does_not_take_that_audience(office):
    response = office.owner_client.post(
        f"/api/v1/workspaces/{office.workspace.id}/reminders/",
        {
            "kind": "one_time",
            "audience": "unanswered_guests",
            "template": "Answer!",
            "at": "2030-06-29T18:00:00",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "audience" in response.json()["errors"]
