"""The RSVP page: browsers get HTML at /rsvp/<token>, API clients keep JSON; every state and bad input."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

from events import services as event_services
from events.models import Attendee, Rsvp
from events.tokens import attendee_rsvp_token_issue
from tests.factories import PersonFactory
from tests.pages.conftest import csrf_token_of

pytestmark = pytest.mark.django_db


def answer(browser, invited, **data):
    page = browser.get(invited.url)
    return browser.post(invited.url, {"csrfmiddlewaretoken": csrf_token_of(page), **data})


def test_a_browser_gets_the_page_with_the_event_in_its_own_zone(browser, invited):
    response = browser.get(invited.url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "Summer dinner" in html
    # 16:00 UTC is 18:00 in Berlin (summer time), and the zone is named.
    assert "Wednesday, July 3, 2030 · 6 p.m. \N{EN DASH} 10 p.m." in html
    assert "time in Europe/Berlin" in html
    assert 'datetime="2030-07-03T18:00:00+02:00" data-zone="Europe/Berlin"' in html
    assert "Rooftop, Torstraße 1" in html
    assert "Hanna Host" in html
    assert "Bring a dessert." in html
    assert '<meta name="viewport"' in html
    assert "You have not answered yet." in html
    assert "no-store" in response["Cache-Control"]
    assert "Accept" in response["Vary"]


def test_the_page_has_no_inline_script_or_style(browser, invited):
    html = browser.get(invited.url).content.decode()

    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "every script is a file"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"


def test_api_clients_keep_the_json_contract(invited):
    client = APIClient()
    for headers in ({}, {"HTTP_ACCEPT": "application/json"}, {"HTTP_ACCEPT": "*/*"}):
        response = client.get(invited.url, **headers)
        assert response.status_code == 200
        assert response.json()["event"]["title"] == "Summer dinner"
    response = client.post(invited.url, {"answer": "yes", "note": "Gladly"}, format="json")
    assert response.status_code == 200
    assert response.json()["answer"] == "yes"


def test_answering_in_the_form_saves_and_shows_the_answer(browser, invited):
    response = answer(browser, invited, answer="maybe", note="  If the train runs  ")

    assert response.status_code == 303
    assert response["Location"] == f"{invited.url}?saved=1"
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.MAYBE
    assert invited.attendee.note == "If the train runs"
    shown = browser.get(response["Location"]).content.decode()
    assert "your answer is saved: Maybe" in shown
    assert re.search(r'value="maybe"[^>]*checked', shown)


def test_the_answer_can_be_changed(browser, invited):
    answer(browser, invited, answer="yes")
    answer(browser, invited, answer="no")

    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.NO


def test_a_get_never_changes_the_answer_and_a_preselected_choice_asks_for_confirmation(browser, invited):
    response = browser.get(f"{invited.url}?answer=yes")

    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'value="yes"[^>]*checked', html)
    assert "press “Send my answer” to confirm" in html
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.PENDING
    assert invited.attendee.responded_at is None


def test_a_preselection_that_is_not_an_answer_is_ignored(browser, invited):
    html = browser.get(f"{invited.url}?answer=banana").content.decode()

    assert not re.search(r"checked", html)
    assert "to confirm" not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose Going, Maybe or Can&#x27;t go."),
        ({"answer": "pending"}, "Choose Going, Maybe or Can&#x27;t go."),
        ({"answer": "YES!"}, "Choose Going, Maybe or Can&#x27;t go."),
        ({"answer": "yes", "note": "x" * 501}, "at most 500 characters"),
    ],
)
def test_a_bad_answer_is_400_names_the_problem_and_writes_nothing(browser, invited, data, message):
    response = answer(browser, invited, **data)

    assert response.status_code == 400
    assert message in response.content.decode()
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.PENDING
    assert invited.attendee.note == ""


def test_a_form_post_without_the_csrf_token_is_refused(browser, invited):
    response = browser.post(invited.url, {"answer": "yes"})

    assert response.status_code == 403
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.PENDING


def test_a_form_posted_twice_keeps_one_answer(browser, invited):
    page = browser.get(invited.url)
    data = {"csrfmiddlewaretoken": csrf_token_of(page), "answer": "yes", "note": "See you"}
    first = browser.post(invited.url, data)
    second = browser.post(invited.url, data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert Attendee.objects.filter(event=invited.event).count() == 1
    invited.attendee.refresh_from_db()
    assert (invited.attendee.answer, invited.attendee.note) == (Rsvp.YES, "See you")


@pytest.mark.parametrize("token", ["short", "x" * 43, "a" * 200, "bad token!"])
def test_a_bad_link_gets_a_friendly_404(browser, token, db):
    response = browser.get(f"/rsvp/{token}")

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_a_replaced_link_is_404_in_both_forms(browser, invited):
    old = invited.token
    attendee_rsvp_token_issue(attendee=invited.attendee)

    assert browser.get(f"/rsvp/{old}").status_code == 404
    assert APIClient().get(f"/rsvp/{old}").status_code == 404


def test_a_cancelled_event_gets_a_410_page_and_takes_no_answer(browser, invited):
    page = browser.get(invited.url)
    event_services.event_cancel(event=invited.event)

    shown = browser.get(invited.url)
    assert shown.status_code == 410
    assert "This event was cancelled" in shown.content.decode()
    posted = browser.post(invited.url, {"csrfmiddlewaretoken": csrf_token_of(page), "answer": "yes"})
    assert posted.status_code == 410
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.PENDING
    assert APIClient().get(invited.url).json()["code"] == "event_cancelled"


def test_a_finished_event_gets_a_410_page(browser, invited):
    invited.event.starts_at = datetime.now(UTC) - timedelta(hours=3)
    invited.event.ends_at = datetime.now(UTC) - timedelta(hours=1)
    invited.event.save()

    response = browser.get(invited.url)
    assert response.status_code == 410
    assert "This event is over" in response.content.decode()


def test_add_to_calendar_offers_an_ics_file_and_a_google_link(browser, invited):
    html = browser.get(invited.url).content.decode()
    assert f'href="{invited.url}/event.ics"' in html
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "dates=20300703T160000Z%2F20300703T200000Z" in html

    response = browser.get(f"{invited.url}/event.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert 'filename="summer-dinner.ics"' in response["Content-Disposition"]
    calendar = Calendar.from_ical(response.content)
    (vevent,) = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Summer dinner"
    assert str(vevent["UID"]) == f"{invited.event.pk}@birthdaybuddy"
    assert vevent.decoded("DTSTART") == datetime(2030, 7, 3, 16, 0, tzinfo=UTC)
    assert browser.get("/rsvp/not-a-real-token-at-all-1234567/event.ics").status_code == 404


def test_other_guests_are_not_shown(browser, invited):
    other = PersonFactory(workspace=invited.event.workspace, name="Zed Zimmer")
    Attendee.objects.create(event=invited.event, person=other, answer=Rsvp.YES, note="Secret note")

    html = browser.get(invited.url).content.decode()
    assert "Zed Zimmer" not in html
    assert "Secret note" not in html


def test_the_page_is_throttled_per_ip(browser, invited, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "rsvp": "3/min"},
    }
    statuses = [browser.get(invited.url).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = browser.get(invited.url)
    assert int(refused["Retry-After"]) >= 1
    assert "Too many requests" in refused.content.decode()
