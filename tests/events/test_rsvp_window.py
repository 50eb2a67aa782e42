"""Answers can be changed until the event starts (a series: until its last occurrence starts)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from birthdaybuddy.errors import ApplicationError
from events import rsvp, services
from events.models import Attendee, EventKind
from events.tokens import attendee_rsvp_token_issue
from tests.factories import PersonFactory, WorkspaceFactory
from tests.pages.conftest import BROWSER_ACCEPT

pytestmark = pytest.mark.django_db


@pytest.fixture
def berlin():
    return WorkspaceFactory(timezone="Europe/Berlin")


def invite(workspace, **data):
    person = PersonFactory(workspace=workspace, name="Ana Lima", email="ana@example.com")
    event = services.event_create(
        workspace=workspace,
        created_by=None,
        data={"title": "Dinner", "kind": EventKind.CUSTOM, "attendees": [person.pk], **data},
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )
    attendee = Attendee.objects.get(event=event)
    return event, attendee, attendee_rsvp_token_issue(attendee=attendee)


def refused_code(token, now) -> str:
    with pytest.raises(ApplicationError) as caught:
        rsvp.rsvp_answer(token=token, answer="no", note="late", now=now)
    return caught.value.code


def test_a_one_off_event_takes_answers_until_its_start_and_not_from_then(berlin):
    start = datetime(2030, 7, 3, 16, 0, tzinfo=UTC)
    _, attendee, token = invite(berlin, starts_at=start, ends_at=start + timedelta(hours=4))

    rsvp.rsvp_answer(token=token, answer="yes", now=start - timedelta(seconds=1))
    assert refused_code(token, start) == "event_started"
    assert refused_code(token, start + timedelta(hours=1)) == "event_started"

    attendee.refresh_from_db()
    assert (attendee.answer, attendee.note) == ("yes", "")


def test_an_all_day_event_closes_when_its_local_day_begins(berlin):
    _, attendee, token = invite(berlin, date=date(2030, 7, 3))
    # Midnight in Berlin (summer time) is 22:00 UTC the day before.
    rsvp.rsvp_answer(token=token, answer="maybe", now=datetime(2030, 7, 2, 21, 59, tzinfo=UTC))
    assert refused_code(token, datetime(2030, 7, 2, 22, 0, tzinfo=UTC)) == "event_started"
    attendee.refresh_from_db()
    assert attendee.answer == "maybe"


def test_a_series_with_an_end_stays_open_until_its_last_occurrence_starts(berlin):
    start = datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    event, attendee, token = invite(
        berlin, starts_at=start, ends_at=start + timedelta(hours=1), rrule="FREQ=DAILY;COUNT=3"
    )
    # After the first and second occurrences began, the third is still to come.
    rsvp.rsvp_answer(token=token, answer="yes", now=start + timedelta(days=1, hours=2))
    assert not rsvp.answers_closed(event, now=start + timedelta(days=2) - timedelta(seconds=1))
    assert rsvp.answers_closed(event, now=start + timedelta(days=2))
    assert refused_code(token, start + timedelta(days=2, minutes=5)) == "event_started"
    attendee.refresh_from_db()
    assert attendee.answer == "yes"


def test_an_open_ended_series_stays_open(berlin):
    start = datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    event, attendee, token = invite(berlin, starts_at=start, ends_at=start + timedelta(hours=1), rrule="FREQ=WEEKLY")
    later = start + timedelta(days=700)
    assert not rsvp.answers_closed(event, now=later)
    rsvp.rsvp_answer(token=token, answer="no", now=later)
    attendee.refresh_from_db()
    assert attendee.answer == "no"


@pytest.fixture
def started(berlin):
    """An event that began an hour ago and ends in an hour; Ana said yes before."""
    now = timezone.now().replace(microsecond=0)
    event, attendee, token = invite(berlin, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2))
    rsvp.rsvp_answer(token=token, answer="yes", note="gladly")
    type(event).objects.filter(pk=event.pk).update(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    return event, attendee, token


def test_the_api_shows_a_started_event_but_refuses_a_new_answer(started):
    _, attendee, token = started
    client = APIClient()

    shown = client.get(f"/rsvp/{token}")
    refused = client.post(f"/rsvp/{token}", {"answer": "no"}, format="json")

    assert shown.status_code == 200
    assert shown.json()["answer"] == "yes"
    assert refused.status_code == 409
    assert refused.json()["code"] == "event_started"
    attendee.refresh_from_db()
    assert (attendee.answer, attendee.note) == ("yes", "gladly")


def test_the_page_of_a_started_event_says_answers_are_closed_and_has_no_form(started, client):
    _, attendee, token = started
    page = client.get(f"/rsvp/{token}", HTTP_ACCEPT=BROWSER_ACCEPT)
    posted = client.post(f"/rsvp/{token}", {"answer": "no"}, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert page.status_code == 200
    html = page.content.decode()
    assert "This event has started, so answers can no longer be changed." in html
    assert "Your answer was: Going." in html
    assert "<form" not in html
    assert posted.status_code == 409
    assert "answers can no longer be changed" in posted.content.decode()
    attendee.refresh_from_db()
    assert attendee.answer == "yes"
