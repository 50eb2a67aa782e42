"""The organisers write to guests by answer, now or at a time, through the reminders' pipeline."""

from datetime import UTC, datetime, timedelta

import pytest

from events.models import Attendee
from reminders.models import Reminder
from tests.events.test_guests import answer, create

pytestmark = pytest.mark.django_db


def url(office, event) -> str:
    return f"{office.event_url(event.pk)}guest-messages"


def test_writing_to_those_who_have_not_answered_makes_a_one_time_reminder_to_them(
    office, django_capture_on_commit_callbacks
):
    event, tokens = create(office, django_capture_on_commit_callbacks)
    answer(tokens["Ana Lima"], answer="yes")
    at = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)

    response = office.owner_client.post(
        url(office, event),
        {"to": ["pending"], "message": "Please answer by Friday!", "at": at.isoformat()},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["recipients"] == 2
    reminder = Reminder.objects.get(pk=response.json()["reminder"])
    assert reminder.kind == "one_time"
    assert reminder.audience == "people"
    assert set(reminder.recipients.values_list("name", flat=True)) == {"Bo Berg", "Cy Diaz"}
    assert reminder.message == "Please answer by Friday!"
    assert reminder.run_at == at


def test_writing_to_those_going_now(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks)
    answer(tokens["Cy Diaz"], answer="yes")

    response = office.owner_client.post(url(office, event), {"to": ["going"], "message": "See you!"}, format="json")

    assert response.status_code == 201, response.content
    reminder = Reminder.objects.get(pk=response.json()["reminder"])
    assert list(reminder.recipients.values_list("name", flat=True)) == ["Cy Diaz"]
    assert reminder.next_run_at is not None
    assert reminder.next_run_at <= datetime.now(UTC) + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"to": ["everyone"], "message": "Hi"}, 400, "to"),
        ({"to": [], "message": "Hi"}, 400, "to"),
        ({"to": ["pending"], "message": ""}, 400, "message"),
        ({"to": ["pending"], "message": "Hi", "at": "2020-01-01T10:00:00Z"}, 400, "at"),
        ({"to": ["no"], "message": "Hi"}, 409, None),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_written(
    office, django_capture_on_commit_callbacks, body, status, field
):
    event, _ = create(office, django_capture_on_commit_callbacks)
    before = Reminder.objects.count()

    response = office.owner_client.post(url(office, event), body, format="json")

    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["errors"]
    else:
        assert response.json()["code"] == "no_recipients"
    assert Reminder.objects.count() == before


def test_a_plain_member_cannot_write_to_the_guests(office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks)
    before = Reminder.objects.count()
    response = office.member_client.post(url(office, event), {"to": ["pending"], "message": "Hi"}, format="json")
    assert response.status_code == 403
    assert Reminder.objects.count() == before
    assert Attendee.objects.filter(event=event).count() == 3
