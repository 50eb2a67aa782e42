"""The events API: CRUD, the JSON contract, bad input (a clear 4xx and nothing written), roles, filters."""

from datetime import UTC, datetime, timedelta

import pytest

from events.models import Attendee, Event, EventStatus
from notifications.models import Notification
from tests.conftest import client_for
from tests.events.factories import EventFactory
from tests.factories import MembershipFactory, UserFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

CONTRACT = {
    "id",
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "all_day",
    "date",
    "rrule",
    "exdates",
    "rdates",
    "location",
    "notes",
    "plus_ones_allowed",
    "capacity",
    "rsvp_deadline",
    "rsvp_reminder_hours",
    "offer_hours",
    "guest_list",
    "cohosts",
    "host",
    "attendees",
    "status",
    "created_at",
    "rsvp_counts",
    "occurrences",
}


def row_counts() -> tuple[int, int, int]:
    return Event.objects.count(), Attendee.objects.count(), Notification.objects.count()


def deadline(**overrides) -> dict:
    return {"title": "VAT return", "kind": "deadline", "starts_at": "2026-04-10T17:00:00+02:00", **overrides}


def appointment(office, **overrides) -> dict:
    return {
        "title": "Tax review",
        "kind": "appointment",
        "starts_at": "2026-04-10T10:00:00",
        "ends_at": "2026-04-10T11:00:00",
        "host": str(office.admin.pk),
        "attendees": [str(office.ana.pk)],
        **overrides,
    }


# --- create and read --------------------------------------------------------------------------


def test_create_an_appointment_in_local_time_returns_the_contract(office):
    response = office.owner_client.post(
        office.events_url, appointment(office, location="Room 2", notes="Bring receipts")
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == CONTRACT
    # Naive times are Berlin time (UTC+2 in April); output is UTC.
    assert body["starts_at"] == "2026-04-10T08:00:00Z"
    assert body["ends_at"] == "2026-04-10T09:00:00Z"
    assert body["all_day"] is False
    assert body["date"] is None
    assert body["rrule"] is None
    assert body["kind"] == "appointment"
    assert body["host"] == str(office.admin.pk)
    assert body["attendees"] == [str(office.ana.pk)]
    assert body["status"] == "active"
    assert body["rsvp_counts"] == {"yes": 0, "no": 0, "maybe": 0, "pending": 1}
    assert body["occurrences"] is None
    event = Event.objects.get(pk=body["id"])
    assert event.workspace == office.workspace
    assert event.created_by == office.owner


def test_times_with_an_offset_are_taken_as_given(office):
    response = office.owner_client.post(office.events_url, deadline(starts_at="2026-04-10T17:00:00-05:00"))
    assert response.status_code == 201
    assert response.json()["starts_at"] == "2026-04-10T22:00:00Z"


def test_an_all_day_event_has_a_date_and_no_times(office):
    response = office.owner_client.post(office.events_url, {"title": "Office closed", "date": "2026-12-24"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["all_day"], body["date"], body["starts_at"], body["ends_at"]) == (True, "2026-12-24", None, None)


def test_a_recurring_event_keeps_its_rule(office):
    response = office.owner_client.post(
        office.events_url,
        deadline(title="Payroll", starts_at="2026-01-15T09:00:00", rrule="RRULE:freq=monthly;bymonthday=15"),
    )
    assert response.status_code == 201, response.content
    assert response.json()["rrule"] == "FREQ=MONTHLY;BYMONTHDAY=15"


def test_members_read_events_but_only_admins_see_rsvp_counts(office):
    event = EventFactory(workspace=office.workspace, kind="gathering")
    Attendee.objects.create(event=event, person=office.ana)

    as_member = office.member_client.get(office.event_url(event.pk))
    as_admin = office.admin_client.get(office.event_url(event.pk))

    assert as_member.status_code == 200
    assert as_member.json()["rsvp_counts"] is None
    assert as_admin.json()["rsvp_counts"] == {"yes": 0, "no": 0, "maybe": 0, "pending": 1}


def test_list_filters_by_kind_status_and_host(office):
    hosted = EventFactory(workspace=office.workspace, kind="deadline", host=office.member)
    EventFactory(workspace=office.workspace, kind="custom")
    cancelled = EventFactory(
        workspace=office.workspace, kind="deadline", status=EventStatus.CANCELLED, cancelled_at=datetime.now(UTC)
    )

    def ids(query):
        response = office.member_client.get(office.events_url + query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("?kind=deadline") == {str(hosted.pk), str(cancelled.pk)}
    assert ids("?kind=deadline&status=active") == {str(hosted.pk)}
    assert ids(f"?host={office.member.pk}") == {str(hosted.pk)}


def test_the_list_costs_the_same_few_queries_for_many_events(office, django_assert_max_num_queries):
    for _ in range(30):
        event = EventFactory(workspace=office.workspace, kind="gathering")
        Attendee.objects.create(event=event, person=office.ana)
    with django_assert_max_num_queries(8):
        response = office.owner_client.get(office.events_url)
    assert response.json()["count"] == 30


# --- update, cancel, roles --------------------------------------------------------------------


def test_patch_changes_only_what_is_given_and_bumps_sequence_on_moves(office):
    event = EventFactory(workspace=office.workspace, title="Old", location="A")

    renamed = office.owner_client.patch(office.event_url(event.pk), {"title": "New"})
    event.refresh_from_db()
    assert renamed.status_code == 200
    assert (event.title, event.location, event.sequence) == ("New", "A", 0)

    moved = office.owner_client.patch(office.event_url(event.pk), {"location": "B"})
    event.refresh_from_db()
    assert moved.status_code == 200
    assert (event.location, event.sequence) == ("B", 1)


def test_patch_can_turn_a_timed_event_into_an_all_day_one(office):
    event = EventFactory(workspace=office.workspace)
    response = office.owner_client.patch(office.event_url(event.pk), {"date": "2026-05-01"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["all_day"], body["date"], body["starts_at"]) == (True, "2026-05-01", None)


def test_delete_cancels_and_keeps_the_event(office):
    event = EventFactory(workspace=office.workspace)

    response = office.owner_client.delete(office.event_url(event.pk))
    again = office.owner_client.delete(office.event_url(event.pk))

    assert (response.status_code, again.status_code) == (204, 204)
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    assert event.cancelled_at is not None
    assert office.owner_client.get(office.event_url(event.pk)).json()["status"] == "cancelled"


def test_a_cancelled_event_cannot_change(office):
    event = EventFactory(workspace=office.workspace, status=EventStatus.CANCELLED, cancelled_at=datetime.now(UTC))
    response = office.owner_client.patch(office.event_url(event.pk), {"title": "Back"})
    assert response.status_code == 409
    assert response.json()["code"] == "event_cancelled"


def test_members_cannot_create_or_change_other_peoples_events(office):
    event = EventFactory(workspace=office.workspace, host=office.admin, title="Board meeting")
    before = row_counts()

    created = office.member_client.post(office.events_url, deadline())
    changed = office.member_client.patch(office.event_url(event.pk), {"title": "Mine now"})
    cancelled = office.member_client.delete(office.event_url(event.pk))

    assert (created.status_code, changed.status_code, cancelled.status_code) == (403, 403, 403)
    assert {created.json()["code"], changed.json()["code"], cancelled.json()["code"]} == {"role_required"}
    assert row_counts() == before
    event.refresh_from_db()
    assert (event.title, event.status) == ("Board meeting", "active")


def test_a_member_edits_and_cancels_the_events_they_host_but_cannot_hand_them_over(office):
    event = EventFactory(workspace=office.workspace, host=office.member)

    moved = office.member_client.patch(office.event_url(event.pk), {"location": "Room 9"})
    handed = office.member_client.patch(office.event_url(event.pk), {"host": str(office.admin.pk)})
    cancelled = office.member_client.delete(office.event_url(event.pk))

    assert moved.status_code == 200
    assert handed.status_code == 403
    assert cancelled.status_code == 204
    event.refresh_from_db()
    assert (event.location, event.host, event.status) == ("Room 9", office.member, "cancelled")


# --- bad input: a clear 4xx, nothing written --------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        (deadline(rrule="FREQ=SOMETIMES"), "rrule", "invalid_rrule"),
        (deadline(rrule="FREQ=WEEKLY;BYDAY=MO"), "rrule", "rrule_start_mismatch"),  # 10 April 2026 is a Friday
        (deadline(rrule="FREQ=MINUTELY"), "rrule", "invalid_rrule"),
        (deadline(rrule="FREQ=YEARLY;BYMONTH=\u00b2"), "rrule", "invalid_rrule"),  # isdigit() but not int()
        (deadline(rrule="FREQ=WEEKLY;BYMONTHDAY=10"), "rrule", "invalid_rrule"),  # RFC 5545 forbids the pair
        (deadline(ends_at="2026-04-10T16:00:00+02:00"), "ends_at", "end_before_start"),
        (deadline(ends_at="2026-04-10T17:00:00+02:00"), "ends_at", "end_before_start"),
        ({"title": "No time"}, "starts_at", "required"),
        (
            {"title": "Both", "date": "2026-04-10", "starts_at": "2026-04-10T10:00:00", "all_day": True},
            "starts_at",
            None,
        ),
        (deadline(title=""), "title", None),
        (deadline(title=123), "title", "invalid"),
        (deadline(kind="meeting"), "kind", "invalid_choice"),
        (deadline(starts_at="tomorrow"), "starts_at", "invalid"),
        (deadline(starts_at=1712761200), "starts_at", "invalid"),
        (deadline(starts_at="2026-02-30T10:00:00"), "starts_at", "invalid"),
        (deadline(starts_at="0001-01-01T00:00:00+14:00"), "starts_at", "out_of_range"),
        (deadline(all_day="yes"), "all_day", "invalid"),
        (deadline(attendees="not-a-list"), "attendees", "not_a_list"),
        (deadline(attendees=[42]), "attendees", "invalid"),
        (deadline(host=42), "host", "invalid"),
        (deadline(host="not-a-uuid"), "host", "invalid"),
        ({"title": "Closed", "date": "24.12.2026"}, "date", "invalid"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(office, payload, field, code):
    before = row_counts()

    response = office.owner_client.post(office.events_url, payload, format="json")

    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    if code:
        assert body["code"] == code, body
    assert row_counts() == before


def test_an_attendee_from_another_workspace_is_refused_by_name(office, elsewhere):
    _, stranger = elsewhere
    before = row_counts()

    response = office.owner_client.post(office.events_url, deadline(attendees=[str(office.ana.pk), str(stranger.pk)]))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "attendee_not_in_workspace"
    assert str(stranger.pk) in body["errors"]["attendees"][0]
    assert "Stranger" not in response.content.decode()
    assert row_counts() == before


def test_a_host_who_is_not_a_member_is_refused(office, elsewhere):
    outsider = UserFactory()
    before = row_counts()

    response = office.owner_client.post(office.events_url, appointment(office, host=str(outsider.pk)))

    assert response.status_code == 400
    assert response.json()["code"] == "host_not_member"
    assert "host" in response.json()["errors"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": None}, "ends_at"),
        ({"host": None}, "host"),
        ({"attendees": []}, "attendees"),
        ({"starts_at": None, "ends_at": None, "date": "2026-04-10"}, "all_day"),
    ],
)
def test_an_appointment_needs_an_end_a_host_and_an_attendee(office, overrides, field):
    before = row_counts()
    response = office.owner_client.post(office.events_url, appointment(office, **overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert row_counts() == before


def test_a_bad_patch_changes_nothing(office):
    event = EventFactory(workspace=office.workspace, title="Keep")
    snapshot = Event.objects.filter(pk=event.pk).values().get()

    response = office.owner_client.patch(
        office.event_url(event.pk), {"title": "Changed", "ends_at": "2000-01-01T00:00:00Z"}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "end_before_start"
    assert Event.objects.filter(pk=event.pk).values().get() == snapshot


def test_staff_who_are_not_members_act_as_admins(office, staff_client):
    response = staff_client.post(office.events_url, deadline())
    assert response.status_code == 201


def test_events_of_another_workspace_are_404(office, elsewhere):
    other_workspace, _ = elsewhere
    foreign = EventFactory(workspace=other_workspace)
    assert office.owner_client.get(office.event_url(foreign.pk)).status_code == 404
    assert office.owner_client.patch(office.event_url(foreign.pk), {"title": "x"}).status_code == 404


def test_a_member_who_left_loses_access(office):
    leaver = UserFactory()
    membership = MembershipFactory(workspace=office.workspace, user=leaver, role=Role.MEMBER)
    client = client_for(leaver)
    assert client.get(office.events_url).status_code == 200
    membership.delete()
    assert client.get(office.events_url).status_code == 404


def test_end_must_follow_start_in_the_database_too(office):
    from django.db import IntegrityError, transaction

    start = datetime(2026, 5, 1, 10, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(workspace=office.workspace, title="x", starts_at=start, ends_at=start - timedelta(hours=1))
