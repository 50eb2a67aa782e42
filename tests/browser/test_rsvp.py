"""An invitee answers in Chromium, on a desktop and on a 390 px phone, and changes the answer."""

import pytest

from events import services as event_services
from events.models import Rsvp
from tests.browser.conftest import PHONE
from tests.pages.conftest import invited  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_answering_on_a_desktop_then_changing_the_answer(open_page, live_server, invited, screenshot):  # noqa: F811
    page = open_page()
    page.goto(f"{live_server.url}{invited.url}?answer=yes")

    assert page.title() == "Your invitation · BirthdayBuddy"
    assert page.locator("h1").inner_text() == "Summer dinner"
    assert page.get_by_label("Going").is_checked()  # pre-selected by the email's button, not saved
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.PENDING
    # The browser (en-GB, UTC) is elsewhere than Berlin: the script adds the viewer's own time.
    assert "Your time:" in page.locator(".local-time").inner_text()
    screenshot(page, "rsvp-desktop")

    page.get_by_label("Note for the organiser").fill("I'll bring a cake")
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_url("**?saved=1")
    assert "your answer is saved: Going" in page.locator("[role=status]").inner_text()
    invited.attendee.refresh_from_db()
    assert (invited.attendee.answer, invited.attendee.note) == (Rsvp.YES, "I'll bring a cake")

    page.get_by_text("Can't go").click()
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_load_state()
    assert "your answer is saved: Can't go" in page.locator("[role=status]").inner_text()
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.NO
    assert page.js_errors == []


def test_answering_on_a_phone(open_page, live_server, invited, screenshot):  # noqa: F811
    page = open_page(viewport=PHONE, timezone_id="Europe/Berlin")
    page.goto(f"{live_server.url}{invited.url}")

    # Nothing is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # In the event's own zone the page adds no second time.
    assert page.locator(".local-time").count() == 0
    page.get_by_text("Maybe").click()
    screenshot(page, "rsvp-phone")
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_url("**?saved=1")
    invited.attendee.refresh_from_db()
    assert invited.attendee.answer == Rsvp.MAYBE
    assert page.js_errors == []


def test_a_cancelled_event(open_page, live_server, invited, screenshot):  # noqa: F811
    event_services.event_cancel(event=invited.event)
    page = open_page(viewport=PHONE)

    response = page.goto(f"{live_server.url}{invited.url}")

    assert response.status == 410
    assert "This event was cancelled" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Send my answer").count() == 0
    screenshot(page, "rsvp-cancelled-phone")
