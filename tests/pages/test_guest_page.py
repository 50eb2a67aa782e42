"""The guest page with +1s, the waitlist, the deadline and the guest list."""

from datetime import UTC, datetime, timedelta

import pytest

from events.models import Attendee, Event, GuestList, Seat
from events.tokens import attendee_rsvp_token_issue
from tests.factories import PersonFactory
from tests.pages.conftest import csrf_token_of

pytestmark = pytest.mark.django_db


def post(browser, url, **data):
    page = browser.get(url)
    return browser.post(url, {"csrfmiddlewaretoken": csrf_token_of(page), **data})


def test_plus_ones_are_offered_up_to_the_limit_and_beyond_it_refused(browser, invited):
    Event.objects.filter(pk=invited.event.pk).update(plus_ones_allowed=2)

    html = browser.get(invited.url).content.decode()
    too_many = post(browser, invited.url, answer="yes", plus_ones="3")
    ok = post(browser, invited.url, answer="yes", plus_ones="2", plus_one_names="Lia\nMo")

    assert "Guests coming with you" in html
    assert too_many.status_code == 400
    assert "At most 2 guests can come with you." in too_many.content.decode()
    assert ok.status_code == 303
    attendee = Attendee.objects.get(pk=invited.attendee.pk)
    assert (attendee.plus_ones, attendee.plus_one_names, attendee.seat) == (2, ["Lia", "Mo"], Seat.GOING)


def test_without_plus_ones_the_page_does_not_ask_for_them(browser, invited):
    assert "Guests coming with you" not in browser.get(invited.url).content.decode()


def test_a_full_event_puts_the_guest_on_the_waitlist_and_says_so(browser, invited):
    Event.objects.filter(pk=invited.event.pk).update(capacity=1)
    other = PersonFactory(workspace=invited.event.workspace, name="Bo Berg")
    Attendee.objects.create(event=invited.event, person=other, answer="yes", seat=Seat.GOING)

    saved = post(browser, invited.url, answer="yes")
    html = browser.get(saved["Location"]).content.decode()

    assert saved.status_code == 303
    assert "you are on the waitlist (number 1)" in html
    assert Attendee.objects.get(pk=invited.attendee.pk).seat == Seat.WAITLISTED


def test_after_the_deadline_the_page_says_so_and_a_post_writes_nothing(browser, invited):
    page = browser.get(invited.url)
    token = csrf_token_of(page)
    Event.objects.filter(pk=invited.event.pk).update(rsvp_deadline=datetime.now(UTC) - timedelta(minutes=1))

    html = browser.get(invited.url).content.decode()
    posted = browser.post(invited.url, {"csrfmiddlewaretoken": token, "answer": "yes"})

    assert "The deadline for answers has passed" in html
    assert "<form" not in html
    assert posted.status_code == 409
    assert Attendee.objects.get(pk=invited.attendee.pk).answer == "pending"


def test_the_guest_list_shows_names_only_when_the_organiser_chose_names(browser, invited):
    other = PersonFactory(workspace=invited.event.workspace, name="Bo Berg")
    Attendee.objects.create(event=invited.event, person=other, answer="yes", seat=Seat.GOING, plus_ones=1)

    hidden = browser.get(invited.url).content.decode()
    Event.objects.filter(pk=invited.event.pk).update(guest_list=GuestList.COUNTS)
    counts = browser.get(invited.url).content.decode()
    Event.objects.filter(pk=invited.event.pk).update(guest_list=GuestList.NAMES)
    names = browser.get(invited.url).content.decode()

    assert "Who is coming" not in hidden
    assert "2 places taken" in counts
    assert "Bo Berg" not in counts
    assert "Bo Berg (+1)" in names


def test_a_token_of_another_event_does_not_open_this_one(browser, invited):
    other_event = Event.objects.create(
        workspace=invited.event.workspace, title="Other party", kind="gathering", starts_at=invited.event.starts_at
    )
    attendee = Attendee.objects.create(event=other_event, person=invited.attendee.person)
    token = attendee_rsvp_token_issue(attendee=attendee)

    html = browser.get(f"/rsvp/{token}").content.decode()

    assert "Other party" in html
    assert "Summer dinner" not in html
