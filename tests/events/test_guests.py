"""Gathering guests: +1s, capacity and the waitlist, the RSVP deadline, co-hosts, guest-list privacy,
check-in and the CSV guest list — through the API and the services, with the real outbox."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from birthdaybuddy.errors import ApplicationError
from events import guests, rsvp
from events.models import Attendee, Event, Seat
from notifications.models import Notification
from tests.events.test_rsvp import gathering, invitations, token_in
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def create(office, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(office.events_url, gathering(office, **overrides))
    assert response.status_code == 201, response.content
    event = Event.objects.get(pk=response.json()["id"])
    return event, {name: token_in(row) for name, row in invitations(event.pk).items()}


def answer(token, **body):
    return APIClient().post(f"/rsvp/{token}", body, format="json")


def seats(event) -> dict[str, str]:
    return {row.person.name: row.seat for row in Attendee.objects.filter(event=event).select_related("person")}


def offers(event) -> dict[str, Notification]:
    rows = Notification.objects.filter(idempotency_key__startswith=f"event:{event.pk}:offer:").select_related("person")
    return {row.person.name: row for row in rows}


def test_the_guest_settings_are_part_of_the_event(office, django_capture_on_commit_callbacks):
    event, _ = create(
        office,
        django_capture_on_commit_callbacks,
        plus_ones_allowed=2,
        capacity=4,
        rsvp_deadline="2030-07-01T12:00:00",
        offer_hours=24,
        guest_list="counts",
        cohosts=[str(office.member.pk)],
    )
    body = office.owner_client.get(office.event_url(event.pk)).json()

    assert body["plus_ones_allowed"] == 2
    assert body["capacity"] == 4
    assert body["rsvp_deadline"] == "2030-07-01T10:00:00Z"  # Berlin summer time
    assert body["offer_hours"] == 24
    assert body["guest_list"] == "counts"
    assert body["cohosts"] == [str(office.member.pk)]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("plus_ones_allowed", 11, "max_value"),
        ("plus_ones_allowed", "2", "invalid"),
        ("capacity", 0, "min_value"),
        ("offer_hours", 0, "min_value"),
        ("guest_list", "everyone", "invalid_choice"),
        ("rsvp_deadline", "2030-07-04T12:00:00", "deadline_after_start"),
        ("cohosts", ["00000000-0000-0000-0000-000000000001"], "cohost_not_member"),
    ],
)
def test_bad_guest_settings_are_a_400_naming_the_field_and_nothing_is_written(office, field, value, code):
    response = office.owner_client.post(office.events_url, gathering(office, **{field: value}))

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert code in str(response.json()), response.json()
    assert not Event.objects.exists()


def test_plus_ones_within_the_limit_are_kept_and_beyond_it_refused_without_writing(
    office, django_capture_on_commit_callbacks
):
    event, tokens = create(office, django_capture_on_commit_callbacks, plus_ones_allowed=1)

    ok = answer(tokens["Ana Lima"], answer="yes", plus_ones=1, plus_one_names=["Lia"])
    too_many = answer(tokens["Bo Berg"], answer="yes", plus_ones=2)
    too_many_names = answer(tokens["Cy Diaz"], answer="yes", plus_ones=1, plus_one_names=["A", "B"])

    assert ok.status_code == 200, ok.content
    assert (ok.json()["plus_ones"], ok.json()["plus_one_names"], ok.json()["seat"]) == (1, ["Lia"], "going")
    assert too_many.status_code == 400
    assert too_many.json()["errors"]["plus_ones"]
    assert too_many_names.status_code == 400
    assert too_many_names.json()["errors"]["plus_one_names"]
    rows = {row.person.name: (row.answer, row.plus_ones) for row in Attendee.objects.filter(event=event)}
    assert rows == {"Ana Lima": ("yes", 1), "Bo Berg": ("pending", 0), "Cy Diaz": ("pending", 0)}


def test_a_full_event_waitlists_and_promotes_in_answer_order_telling_the_guest(
    office, django_capture_on_commit_callbacks
):
    dee = PersonFactory(workspace=office.workspace, name="Dee Ek", email="dee@example.com")
    event, tokens = create(
        office,
        django_capture_on_commit_callbacks,
        capacity=2,
        attendees=[str(office.ana.pk), str(office.bo.pk), str(office.cy.pk), str(dee.pk)],
    )
    assert answer(tokens["Ana Lima"], answer="yes").json()["seat"] == "going"
    assert answer(tokens["Bo Berg"], answer="yes").json()["seat"] == "going"
    cy = answer(tokens["Cy Diaz"], answer="yes").json()
    dee_body = answer(tokens["Dee Ek"], answer="yes").json()

    assert (cy["seat"], cy["waitlist_position"]) == ("waitlisted", 1)
    assert (dee_body["seat"], dee_body["waitlist_position"]) == ("waitlisted", 2)
    assert offers(event) == {}

    with django_capture_on_commit_callbacks(execute=True):
        declined = answer(tokens["Bo Berg"], answer="no")
    assert declined.status_code == 200

    assert seats(event) == {"Ana Lima": "going", "Bo Berg": "", "Cy Diaz": "offered", "Dee Ek": "waitlisted"}
    told = offers(event)
    assert list(told) == ["Cy Diaz"]
    assert "A place has opened up" in told["Cy Diaz"].body
    cy_row = Attendee.objects.get(event=event, person=office.cy)
    assert cy_row.offer_expires_at is not None
    # Confirming takes the place; the waitlist moves up.
    confirmed = answer(tokens["Cy Diaz"], answer="yes")
    assert confirmed.json()["seat"] == "going"
    assert answer(tokens["Dee Ek"], answer="yes").json()["waitlist_position"] == 1


def test_an_offer_not_confirmed_in_time_lapses_and_goes_to_the_next(office, django_capture_on_commit_callbacks):
    dee = PersonFactory(workspace=office.workspace, name="Dee Ek", email="dee@example.com")
    event, tokens = create(
        office,
        django_capture_on_commit_callbacks,
        capacity=1,
        offer_hours=2,
        attendees=[str(office.ana.pk), str(office.bo.pk), str(dee.pk)],
    )
    now = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
    rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="yes", now=now)
    rsvp.rsvp_answer(token=tokens["Bo Berg"], answer="yes", now=now + timedelta(minutes=1))
    rsvp.rsvp_answer(token=tokens["Dee Ek"], answer="yes", now=now + timedelta(minutes=2))
    rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="no", now=now + timedelta(minutes=3))
    assert seats(event)["Bo Berg"] == "offered"

    # Bo does not confirm within two hours; the next answer to the event lapses the offer.
    rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="maybe", now=now + timedelta(hours=3))

    bo = Attendee.objects.get(event=event, person=office.bo)
    assert (bo.answer, bo.seat) == ("pending", "")
    assert seats(event)["Dee Ek"] == "offered"
    assert set(offers(event)) == {"Bo Berg", "Dee Ek"}


def test_a_guest_going_cannot_take_more_places_than_are_left(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks, capacity=2, plus_ones_allowed=2)
    assert answer(tokens["Ana Lima"], answer="yes").json()["seat"] == "going"
    assert answer(tokens["Bo Berg"], answer="yes").json()["seat"] == "going"

    refused = answer(tokens["Ana Lima"], answer="yes", plus_ones=1)

    assert refused.status_code == 409
    assert refused.json()["code"] == "event_full"
    ana = Attendee.objects.get(event=event, person=office.ana)
    assert (ana.plus_ones, ana.seat) == (0, Seat.GOING)


def test_raising_the_capacity_promotes_the_waitlist(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks, capacity=1)
    answer(tokens["Ana Lima"], answer="yes")
    answer(tokens["Bo Berg"], answer="yes")
    assert seats(event)["Bo Berg"] == "waitlisted"

    response = office.owner_client.patch(office.event_url(event.pk), {"capacity": 2}, format="json")

    assert response.status_code == 200, response.content
    assert seats(event)["Bo Berg"] == "offered"
    assert list(offers(event)) == ["Bo Berg"]


def test_answers_after_the_rsvp_deadline_are_refused_and_nothing_is_written(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks, rsvp_deadline="2030-06-30T18:00:00")
    deadline = datetime(2030, 6, 30, 16, 0, tzinfo=UTC)
    rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="yes", now=deadline - timedelta(seconds=1))

    with pytest.raises(ApplicationError) as caught:
        rsvp.rsvp_answer(token=tokens["Ana Lima"], answer="no", now=deadline)

    assert caught.value.code == "rsvp_deadline_passed"
    assert Attendee.objects.get(event=event, person=office.ana).answer == "yes"


def test_the_deadline_over_the_api_is_a_409(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks)
    Event.objects.filter(pk=event.pk).update(rsvp_deadline=datetime.now(UTC) - timedelta(minutes=1))

    refused = answer(tokens["Ana Lima"], answer="yes")
    shown = APIClient().get(f"/rsvp/{tokens['Ana Lima']}")

    assert refused.status_code == 409
    assert refused.json()["code"] == "rsvp_deadline_passed"
    assert shown.json()["answers_closed"] is True
    assert Attendee.objects.get(event=event, person=office.ana).answer == "pending"


@pytest.mark.parametrize(
    ("privacy", "expected"),
    [
        ("hidden", None),
        ("counts", {"going": 3, "maybe": 1, "waitlisted": 0}),
        (
            "names",
            {"going": 3, "maybe": 1, "waitlisted": 0, "names": [{"name": "Ana Lima", "plus_ones": 2}]},
        ),
    ],
)
def test_guests_see_of_each_other_what_the_organiser_chose(
    office, django_capture_on_commit_callbacks, privacy, expected
):
    _, tokens = create(office, django_capture_on_commit_callbacks, guest_list=privacy, plus_ones_allowed=2)
    answer(tokens["Ana Lima"], answer="yes", plus_ones=2)
    answer(tokens["Bo Berg"], answer="maybe", note="secret note")

    body = APIClient().get(f"/rsvp/{tokens['Cy Diaz']}").json()

    assert body["guests"] == expected
    assert "secret note" not in str(body)


def test_a_co_host_manages_the_event_and_a_plain_member_does_not(office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks)
    url = f"{office.event_url(event.pk)}attendees/{office.ana.pk}/check-in"
    assert office.member_client.post(url).status_code == 403
    assert office.member_client.get(f"{office.event_url(event.pk)}guests.csv").status_code == 403
    assert office.member_client.patch(office.event_url(event.pk), {"title": "x"}, format="json").status_code == 403

    office.owner_client.patch(office.event_url(event.pk), {"cohosts": [str(office.member.pk)]}, format="json")

    checked = office.member_client.post(url)
    assert checked.status_code == 200, checked.content
    assert checked.json()["checked_in_at"] is not None
    assert office.member_client.patch(office.event_url(event.pk), {"title": "Ours"}, format="json").status_code == 200
    # A co-host neither picks co-hosts nor takes the event over.
    picks = office.member_client.patch(office.event_url(event.pk), {"cohosts": []}, format="json")
    takes = office.member_client.patch(office.event_url(event.pk), {"host": str(office.member.pk)}, format="json")
    assert (picks.status_code, takes.status_code) == (403, 403)
    event.refresh_from_db()
    assert list(event.cohosts.values_list("pk", flat=True)) == [office.member.pk]
    assert event.host_id is None


def test_check_in_and_undo_and_an_unknown_person_is_a_404(office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks)
    url = f"{office.event_url(event.pk)}attendees/{office.bo.pk}/check-in"

    assert office.owner_client.post(url).status_code == 200
    assert Attendee.objects.get(event=event, person=office.bo).checked_in_at is not None
    assert office.owner_client.delete(url).status_code == 200
    assert Attendee.objects.get(event=event, person=office.bo).checked_in_at is None
    stranger = PersonFactory(workspace=office.workspace)
    missing = office.owner_client.post(f"{office.event_url(event.pk)}attendees/{stranger.pk}/check-in")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_an_attendee"


def test_the_guest_list_as_csv(office, django_capture_on_commit_callbacks):
    event, tokens = create(office, django_capture_on_commit_callbacks, plus_ones_allowed=1)
    answer(tokens["Ana Lima"], answer="yes", plus_ones=1, plus_one_names=["=HYPERLINK(1)"], note="veggie")
    office.owner_client.post(f"{office.event_url(event.pk)}attendees/{office.ana.pk}/check-in")

    response = office.owner_client.get(f"{office.event_url(event.pk)}guests.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["name"] for row in rows] == ["Ana Lima", "Bo Berg", "Cy Diaz"]
    ana = rows[0]
    assert (ana["answer"], ana["seat"], ana["plus_ones"], ana["note"]) == ("yes", "going", "1", "veggie")
    assert ana["plus_one_names"] == "'=HYPERLINK(1)"
    assert ana["checked_in_at"]
    assert rows[1]["checked_in_at"] == ""


def test_guest_counts_and_the_guest_list_take_a_constant_number_of_queries(
    office, django_capture_on_commit_callbacks, django_assert_num_queries
):
    event, _ = create(office, django_capture_on_commit_callbacks, guest_list="names")
    for n in range(30):
        person = PersonFactory(workspace=office.workspace)
        Attendee.objects.create(event=event, person=person, answer="yes", seat=Seat.GOING, plus_ones=n % 2)
    with django_assert_num_queries(1):
        counts = guests.guest_counts(event)
    assert counts.going == 30
    assert counts.going_places == 45
    with django_assert_num_queries(2):
        shown = guests.guest_list_for_guest(event)
    assert len(shown["names"]) == 30
    with django_assert_num_queries(1):
        text = guests.guest_list_csv(event)
    assert text.count("\n") == 34  # header + 30 + Ana, Bo, Cy


def test_a_guest_link_shows_only_its_own_events_guests(office, elsewhere, django_capture_on_commit_callbacks):
    ours, tokens = create(office, django_capture_on_commit_callbacks, guest_list="names")
    answer(tokens["Ana Lima"], answer="yes")
    workspace, _ = elsewhere
    theirs = Event.objects.create(
        workspace=workspace,
        title="Their party",
        kind="gathering",
        starts_at=ours.starts_at,
        ends_at=ours.ends_at,
        guest_list="names",
    )
    outsider = PersonFactory(workspace=workspace, name="Zed Outsider")
    Attendee.objects.create(event=theirs, person=outsider, answer="yes", seat=Seat.GOING)

    body = APIClient().get(f"/rsvp/{tokens['Bo Berg']}").json()
    page = APIClient().get(f"/rsvp/{tokens['Bo Berg']}", HTTP_ACCEPT="text/html").content.decode()

    assert body["event"]["id"] == str(ours.pk)
    assert body["guests"]["names"] == [{"name": "Ana Lima", "plus_ones": 0}]
    assert "Zed Outsider" not in str(body)
    assert "Ana Lima" in page
    assert "Zed Outsider" not in page
    assert "Their party" not in page
