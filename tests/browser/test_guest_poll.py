"""A guest votes in the date poll and answers with a +1, in Chromium on a 390 px phone."""

from datetime import UTC, datetime

import pytest

from events import polls
from events.models import Event, PollVote, Rsvp, Seat
from tests.browser.conftest import PHONE
from tests.pages.conftest import invited  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_guest_votes_and_answers_on_a_phone(open_page, live_server, invited, screenshot):  # noqa: F811
    Event.objects.filter(pk=invited.event.pk).update(plus_ones_allowed=1)
    options = polls.poll_open(
        event=invited.event,
        options=[
            {"starts_at": datetime(2030, 7, 3, 16, 0, tzinfo=UTC)},
            {"starts_at": datetime(2030, 7, 10, 16, 0, tzinfo=UTC)},
        ],
    )
    page = open_page(viewport=PHONE, timezone_id="America/New_York")
    page.goto(f"{live_server.url}{invited.url}")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_role("heading", name="Which dates suit you?").is_visible()
    choices = page.locator("fieldset.poll-option")
    choices.nth(0).get_by_text("Yes", exact=True).click()
    choices.nth(1).get_by_text("If need be", exact=True).click()
    screenshot(page, "poll-phone")
    page.get_by_role("button", name="Save my votes").click()
    page.wait_for_url("**?voted=1*")

    assert "your votes are saved" in page.locator("main").inner_text()
    votes = {vote.option_id: (vote.choice, vote.time_zone) for vote in PollVote.objects.all()}
    assert votes == {
        options[0].pk: ("yes", "America/New_York"),
        options[1].pk: ("ifneedbe", "America/New_York"),
    }
    assert page.locator("fieldset.poll-option").nth(0).locator("input[value=yes]").is_checked()

    page.get_by_text("Going", exact=True).click()
    page.get_by_label("Guests coming with you").fill("1")
    page.get_by_label("Their names").fill("Lia")
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_url("**?saved=1")

    invited.attendee.refresh_from_db()
    assert (invited.attendee.answer, invited.attendee.seat) == (Rsvp.YES, Seat.GOING)
    assert (invited.attendee.plus_ones, invited.attendee.plus_one_names) == (1, ["Lia"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.js_errors == []
