"""The date poll: organisers propose, guests vote from their page and members through the API, the
organiser fixes an option (the event's time; every guest told with the calendar entry)."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from events.models import PollVote
from notifications.models import Notification
from tests.events.test_guests import create
from tests.factories import PersonFactory
from tests.pages.conftest import BROWSER_ACCEPT

pytestmark = pytest.mark.django_db

OPTIONS = [
    {"starts_at": "2030-07-03T18:00:00", "ends_at": "2030-07-03T22:00:00"},
    {"starts_at": "2030-07-10T18:00:00", "ends_at": "2030-07-10T22:00:00"},
    {"date": "2030-07-12"},
]


def poll_url(office, event) -> str:
    return f"{office.event_url(event.pk)}poll"


@pytest.fixture
def polled(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks)
    response = office.owner_client.post(poll_url(office, event), {"options": OPTIONS}, format="json")
    assert response.status_code == 201, response.content
    return event, tokens, [option["id"] for option in response.json()["options"]]


def guest_votes(token, votes: dict, zone="America/New_York"):
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT=BROWSER_ACCEPT)
    page = browser.get(f"/rsvp/{token}")
    data = {"csrfmiddlewaretoken": page.context["csrf_token"], "time_zone": zone}
    data.update({f"vote-{option}": choice for option, choice in votes.items()})
    return browser.post(f"/rsvp/{token}/poll", data)


def test_options_are_read_in_the_workspace_zone(office, polled):
    event, _, _ = polled
    body = office.member_client.get(poll_url(office, event)).json()

    assert body["status"] == "open"
    assert body["zone"] == "Europe/Berlin"
    assert [(o["starts_at"], o["date"]) for o in body["options"]] == [
        ("2030-07-03T16:00:00Z", None),
        ("2030-07-10T16:00:00Z", None),
        (None, "2030-07-12"),
    ]


@pytest.mark.parametrize(
    "options",
    [
        [OPTIONS[0]],
        [OPTIONS[0], OPTIONS[0]],
        [OPTIONS[0], {"starts_at": "2030-07-03T18:00:00", "ends_at": "2030-07-03T17:00:00"}],
        [OPTIONS[0], {"date": "2030-07-12", "starts_at": "2030-07-12T10:00:00"}],
        [OPTIONS[0], {}],
    ],
)
def test_bad_options_are_a_400_and_nothing_is_written(office, django_capture_on_commit_callbacks, options):
    event, _ = create(office, django_capture_on_commit_callbacks)
    response = office.owner_client.post(poll_url(office, event), {"options": options}, format="json")

    assert response.status_code == 400, response.content
    event.refresh_from_db()
    assert event.poll == ""
    assert not event.poll_options.exists()


def test_only_organisers_open_the_poll_and_only_once(office, polled):
    event, _, _ = polled
    again = office.owner_client.post(poll_url(office, event), {"options": OPTIONS}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "poll_exists"


def test_a_plain_member_cannot_open_a_poll(office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks)
    response = office.member_client.post(poll_url(office, event), {"options": OPTIONS}, format="json")
    assert response.status_code == 403
    assert not event.poll_options.exists()


def test_guests_vote_from_their_page_and_members_through_the_api_with_their_zones(office, polled):
    event, tokens, ids = polled
    saved = guest_votes(tokens["Ana Lima"], {ids[0]: "yes", ids[1]: "ifneedbe", ids[2]: "no"})
    again = guest_votes(tokens["Ana Lima"], {ids[2]: "yes"})
    member = office.member_client.post(
        f"{poll_url(office, event)}/votes", {"votes": {ids[0]: "no"}, "time_zone": "Asia/Tokyo"}, format="json"
    )

    assert saved.status_code == 303
    assert again.status_code == 303
    assert member.status_code == 200, member.content
    table = office.owner_client.get(poll_url(office, event)).json()
    voters = {row["name"]: row for row in table["voters"]}
    assert voters["Ana Lima"]["time_zone"] == "America/New_York"
    assert voters["Ana Lima"]["choices"] == {ids[0]: "yes", ids[1]: "ifneedbe", ids[2]: "yes"}
    member_row = next(row for row in table["voters"] if row["kind"] == "member")
    assert member_row["time_zone"] == "Asia/Tokyo"
    tallies = {o["id"]: (o["yes"], o["ifneedbe"], o["no"]) for o in table["options"]}
    assert tallies == {ids[0]: (1, 0, 1), ids[1]: (0, 1, 0), ids[2]: (1, 0, 0)}
    page = Client(HTTP_ACCEPT=BROWSER_ACCEPT).get(f"/rsvp/{tokens['Ana Lima']}").content.decode()
    assert "Which dates suit you?" in page
    assert re.search(r'value="yes" checked', page)


def test_bad_votes_are_refused_and_nothing_is_written(office, polled):
    event, tokens, ids = polled
    unknown = office.member_client.post(
        f"{poll_url(office, event)}/votes", {"votes": {"00000000-0000-0000-0000-000000000000": "yes"}}, format="json"
    )
    bad_choice = office.member_client.post(
        f"{poll_url(office, event)}/votes", {"votes": {ids[0]: "sure"}}, format="json"
    )
    bad_zone = office.member_client.post(
        f"{poll_url(office, event)}/votes", {"votes": {ids[0]: "yes"}, "time_zone": "Mars/Olympus"}, format="json"
    )
    empty_page_vote = guest_votes(tokens["Bo Berg"], {})

    assert (unknown.status_code, bad_choice.status_code, bad_zone.status_code) == (400, 400, 400)
    assert "votes" in unknown.json()["errors"]
    assert "time_zone" in bad_zone.json()["errors"]
    assert empty_page_vote.status_code == 400
    assert not PollVote.objects.exists()


def test_fixing_an_option_sets_the_time_closes_the_poll_and_tells_the_guests_with_the_calendar(
    office, polled, django_capture_on_commit_callbacks
):
    event, tokens, ids = polled
    guest_votes(tokens["Ana Lima"], {ids[1]: "yes"})
    assert (
        office.member_client.post(f"{poll_url(office, event)}/fix", {"option": ids[1]}, format="json").status_code
        == 403
    )

    with django_capture_on_commit_callbacks(execute=True):
        fixed = office.owner_client.post(f"{poll_url(office, event)}/fix", {"option": ids[1]}, format="json")

    assert fixed.status_code == 200, fixed.content
    assert fixed.json()["starts_at"] == "2030-07-10T16:00:00Z"
    assert fixed.json()["ends_at"] == "2030-07-10T20:00:00Z"
    event.refresh_from_db()
    assert event.poll == "closed"
    told = Notification.objects.filter(idempotency_key__startswith=f"event:{event.pk}:fixed:")
    assert {row.person.name for row in told} == {"Ana Lima", "Bo Berg", "Cy Diaz"}
    ana = next(row for row in told if row.person.name == "Ana Lima")
    assert "fixed the date" in ana.body
    assert "DTSTART:20300710T160000Z" in ana.calendar
    # A closed poll refuses votes and a second fix; nothing is written.
    late = office.member_client.post(f"{poll_url(office, event)}/votes", {"votes": {ids[0]: "yes"}}, format="json")
    late_guest = guest_votes(tokens["Bo Berg"], {ids[0]: "yes"})
    refix = office.owner_client.post(f"{poll_url(office, event)}/fix", {"option": ids[0]}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "poll_closed")
    assert late_guest.status_code == 409
    assert refix.status_code == 409
    assert PollVote.objects.count() == 1


def test_a_guest_declined_before_the_fix_is_not_told(office, polled, django_capture_on_commit_callbacks):
    event, tokens, ids = polled
    from rest_framework.test import APIClient

    APIClient().post(f"/rsvp/{tokens['Cy Diaz']}", {"answer": "no"}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        office.owner_client.post(f"{poll_url(office, event)}/fix", {"option": ids[2]}, format="json")
    event.refresh_from_db()
    assert (event.all_day, str(event.date)) == (True, "2030-07-12")
    told = Notification.objects.filter(idempotency_key__startswith=f"event:{event.pk}:fixed:")
    assert {row.person.name for row in told} == {"Ana Lima", "Bo Berg"}


def test_a_guest_of_another_event_cannot_vote_here(office, polled, django_capture_on_commit_callbacks):
    _, _, ids = polled
    dee = PersonFactory(workspace=office.workspace, name="Dee Ek", email="dee@example.com")
    _, other_tokens = create(office, django_capture_on_commit_callbacks, attendees=[str(dee.pk)])

    response = guest_votes(other_tokens["Dee Ek"], {ids[0]: "yes"})

    assert response.status_code == 404
    assert not PollVote.objects.exists()


def test_the_poll_table_takes_a_constant_number_of_queries(office, polled, django_assert_num_queries):
    from events import polls
    from events.models import Attendee, Event, PollOption

    event = Event.objects.select_related("workspace").get(pk=polled[0].pk)
    options = list(PollOption.objects.filter(event=event))
    for n in range(40):
        attendee = Attendee.objects.create(event=event, person=PersonFactory(workspace=office.workspace))
        PollVote.objects.bulk_create(
            [PollVote(option=o, attendee=attendee, choice="yes", time_zone="UTC") for o in options[: 1 + n % 3]]
        )
    with django_assert_num_queries(2):
        table = polls.poll_table(event)
    assert len(table.rows) == 40


def test_a_guest_votes_through_the_json_api_and_sees_the_poll_on_their_link(office, polled):
    from rest_framework.test import APIClient

    _, tokens, ids = polled
    client = APIClient()

    voted = client.post(
        f"/rsvp/{tokens['Bo Berg']}/poll", {"votes": {ids[0]: "ifneedbe"}, "time_zone": "Asia/Tokyo"}, format="json"
    )
    bad = client.post(f"/rsvp/{tokens['Bo Berg']}/poll", {"votes": {ids[0]: "perhaps"}}, format="json")
    shown = client.get(f"/rsvp/{tokens['Bo Berg']}").json()["poll"]

    assert voted.status_code == 200, voted.content
    assert bad.status_code == 400
    assert [option["mine"] for option in shown["options"]] == ["ifneedbe", None, None]
    assert shown["options"][0]["ifneedbe"] == 1
    assert PollVote.objects.get().time_zone == "Asia/Tokyo"


def test_fixing_an_all_day_option_clears_a_deadline_after_that_days_start(office, django_capture_on_commit_callbacks):
    # The deadline (2030-07-12 09:00 in Berlin) lies after the all-day option's midnight.
    event, _ = create(
        office,
        django_capture_on_commit_callbacks,
        starts_at="2030-07-20T18:00:00",
        ends_at="2030-07-20T23:00:00",
        rsvp_deadline="2030-07-12T09:00:00",
    )
    opened = office.owner_client.post(poll_url(office, event), {"options": OPTIONS}, format="json")
    ids = [option["id"] for option in opened.json()["options"]]

    with django_capture_on_commit_callbacks(execute=True):
        fixed = office.owner_client.post(f"{poll_url(office, event)}/fix", {"option": ids[2]}, format="json")

    assert fixed.status_code == 200, fixed.content
    event.refresh_from_db()
    assert (event.all_day, str(event.date), event.rsvp_deadline, event.poll) == (True, "2030-07-12", None, "closed")


def test_fixing_an_all_day_option_keeps_a_deadline_before_that_day(office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks, rsvp_deadline="2030-07-01T12:00:00")
    opened = office.owner_client.post(poll_url(office, event), {"options": OPTIONS}, format="json")
    ids = [option["id"] for option in opened.json()["options"]]

    with django_capture_on_commit_callbacks(execute=True):
        fixed = office.owner_client.post(f"{poll_url(office, event)}/fix", {"option": ids[2]}, format="json")

    assert fixed.status_code == 200, fixed.content
    event.refresh_from_db()
    assert event.rsvp_deadline == datetime(2030, 7, 1, 10, 0, tzinfo=UTC)
