"""Appointment conflicts: one host, one slot. A clear 409 with the conflicting event, and races with one winner."""

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import IntegrityError, OperationalError, connection, connections, transaction

from events import services
from events.models import Event, EventKind
from tests.conftest import client_for
from tests.events.factories import EventFactory
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and exclusion constraints")


def booking(office, start: str, end: str, **overrides) -> dict:
    return {
        "title": "Consultation",
        "kind": "appointment",
        "starts_at": start,
        "ends_at": end,
        "host": str(office.admin.pk),
        "attendees": [str(office.ana.pk)],
        **overrides,
    }


@pytest.mark.django_db
def test_an_overlapping_booking_is_409_with_the_conflicting_event(office):
    first = office.owner_client.post(office.events_url, booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00"))
    assert first.status_code == 201
    count = Event.objects.count()

    second = office.owner_client.post(
        office.events_url,
        booking(office, "2026-06-01T10:30:00", "2026-06-01T11:30:00", attendees=[str(office.bo.pk)]),
    )

    assert second.status_code == 409, second.content
    body = second.json()
    assert body["code"] == "host_conflict"
    assert body["detail"]
    assert body["conflict"]["id"] == first.json()["id"]
    assert body["conflict"]["title"] == "Consultation"
    assert body["conflict_occurrence"] == {"starts_at": "2026-06-01T08:00:00Z", "ends_at": "2026-06-01T09:00:00Z"}
    assert Event.objects.count() == count


@pytest.mark.django_db
def test_back_to_back_other_hosts_and_cancelled_appointments_do_not_conflict(office):
    first = office.owner_client.post(office.events_url, booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00"))
    back_to_back = office.owner_client.post(
        office.events_url, booking(office, "2026-06-01T11:00:00", "2026-06-01T12:00:00")
    )
    other_host = office.owner_client.post(
        office.events_url, booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00", host=str(office.owner.pk))
    )
    assert (first.status_code, back_to_back.status_code, other_host.status_code) == (201, 201, 201)

    office.owner_client.delete(office.event_url(first.json()["id"]))
    rebooked = office.owner_client.post(
        office.events_url, booking(office, "2026-06-01T10:15:00", "2026-06-01T10:45:00")
    )
    assert rebooked.status_code == 201


@pytest.mark.django_db
def test_only_appointments_conflict(office):
    office.owner_client.post(office.events_url, booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00"))
    gathering = booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00", kind="gathering")
    assert office.owner_client.post(office.events_url, gathering).status_code == 201


@pytest.mark.django_db
def test_moving_an_appointment_onto_another_is_409_and_changes_nothing(office):
    office.owner_client.post(office.events_url, booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00"))
    later = office.owner_client.post(office.events_url, booking(office, "2026-06-01T14:00:00", "2026-06-01T15:00:00"))
    event_id = later.json()["id"]
    snapshot = Event.objects.filter(pk=event_id).values().get()

    moved = office.owner_client.patch(
        office.event_url(event_id), {"starts_at": "2026-06-01T10:30:00", "ends_at": "2026-06-01T11:30:00"}
    )

    assert moved.status_code == 409
    assert moved.json()["code"] == "host_conflict"
    assert Event.objects.filter(pk=event_id).values().get() == snapshot
    # Editing it without moving it onto the other is fine (it does not conflict with itself).
    assert office.owner_client.patch(office.event_url(event_id), {"ends_at": "2026-06-01T15:30:00"}).status_code == 200


@pytest.mark.django_db
def test_recurring_appointments_conflict_with_a_later_occurrence(office):
    weekly = booking(office, "2030-06-03T10:00:00", "2030-06-03T11:00:00", rrule="FREQ=WEEKLY")  # Mondays
    assert office.owner_client.post(office.events_url, weekly).status_code == 201

    # A one-off on a Monday five months later (after the switch to winter time, still 10:00 local).
    clash = office.owner_client.post(office.events_url, booking(office, "2030-11-04T10:30:00", "2030-11-04T11:00:00"))
    free = office.owner_client.post(office.events_url, booking(office, "2030-11-05T10:30:00", "2030-11-05T11:00:00"))

    assert clash.status_code == 409
    assert clash.json()["conflict_occurrence"] == {
        "starts_at": "2030-11-04T09:00:00Z",
        "ends_at": "2030-11-04T10:00:00Z",
    }
    assert free.status_code == 201


@pytest.mark.django_db
def test_two_recurring_series_that_meet_later_conflict(office):
    mondays = booking(office, "2030-06-03T10:00:00", "2030-06-03T11:00:00", rrule="FREQ=WEEKLY")
    every_other_day = booking(office, "2030-06-04T10:00:00", "2030-06-04T11:00:00", rrule="FREQ=DAILY;INTERVAL=2")
    assert office.owner_client.post(office.events_url, mondays).status_code == 201
    response = office.owner_client.post(office.events_url, every_other_day)
    assert response.status_code == 409
    # Tuesday 4 June + 2k days lands on a Monday first on 10 June.
    assert response.json()["conflict_occurrence"]["starts_at"] == "2030-06-10T08:00:00Z"


@pytest.mark.django_db
def test_recurring_series_in_the_past_are_checked_from_now_on(office):
    """A series that began years ago is compared over the next 12 months, not from its start."""
    old = booking(office, "2020-01-06T10:00:00", "2020-01-06T11:00:00", rrule="FREQ=WEEKLY;UNTIL=20200301T000000Z")
    assert office.owner_client.post(office.events_url, old).status_code == 201
    overlapping_but_long_over = booking(office, "2020-01-07T10:00:00", "2020-01-07T11:00:00", rrule="FREQ=DAILY")
    response = office.owner_client.post(office.events_url, overlapping_but_long_over)
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_conflicts_are_per_workspace(office):
    """A host who is a member of two workspaces: the other workspace's appointments are not visible here."""
    other = WorkspaceFactory()
    MembershipFactory(workspace=other, user=office.admin, role=Role.ADMIN)
    EventFactory(
        workspace=other,
        kind=EventKind.APPOINTMENT,
        host=office.admin,
        starts_at=datetime(2026, 6, 1, 8, tzinfo=UTC),
        ends_at=datetime(2026, 6, 1, 9, tzinfo=UTC),
    )
    response = office.owner_client.post(
        office.events_url, booking(office, "2026-06-01T10:00:00", "2026-06-01T11:00:00")
    )
    assert response.status_code == 201


# --- the database backstop (PostgreSQL) -------------------------------------------------------


@on_postgresql
@pytest.mark.django_db
def test_the_exclusion_constraint_refuses_overlaps_written_past_the_service(office):
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    common = {"workspace": office.workspace, "kind": EventKind.APPOINTMENT, "host": office.admin}
    EventFactory(**common, starts_at=start, ends_at=start + timedelta(hours=1))
    EventFactory(**common, starts_at=start + timedelta(hours=1), ends_at=start + timedelta(hours=2))  # touching: fine
    with pytest.raises(IntegrityError, match="event_host_no_overlap"), transaction.atomic():
        EventFactory(**common, starts_at=start + timedelta(minutes=30), ends_at=start + timedelta(minutes=90))


@on_postgresql
@pytest.mark.django_db
def test_the_constraint_refusal_becomes_the_same_409(office):
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)
    common = {"workspace": office.workspace, "kind": EventKind.APPOINTMENT, "host": office.admin}
    existing = EventFactory(**common, starts_at=start, ends_at=start + timedelta(hours=1))
    late = Event(**common, title="Late", starts_at=start + timedelta(minutes=30), ends_at=start + timedelta(hours=2))

    with pytest.raises(services.HostConflict) as caught:
        services._save_appointment_safely(late, force_insert=True)

    assert caught.value.event == existing
    assert caught.value.status_code == 409


# --- races ------------------------------------------------------------------------------------


def _race(callables) -> list:
    """Runs the callables at the same moment on their own threads and connections; returns their results."""
    barrier = threading.Barrier(len(callables))
    results: list = [None] * len(callables)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_bookings_of_the_same_slot_exactly_one_wins():
    """GIVEN a host with a free slot
    WHEN two clients book it at the same moment through the API
    THEN one gets 201, the other 409 host_conflict, and exactly one appointment exists."""
    workspace = WorkspaceFactory(timezone="Europe/Berlin")
    owner, host = UserFactory(), UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    MembershipFactory(workspace=workspace, user=host, role=Role.MEMBER)
    people = [PersonFactory(workspace=workspace), PersonFactory(workspace=workspace)]
    url = f"/api/v1/workspaces/{workspace.id}/events/"

    def book(person):
        payload = {
            "title": f"Booking for {person.name}",
            "kind": "appointment",
            "starts_at": "2026-06-01T10:00:00",
            "ends_at": "2026-06-01T11:00:00",
            "host": str(host.pk),
            "attendees": [str(person.pk)],
        }
        return lambda: client_for(owner).post(url, payload, format="json")

    for _round in range(3):
        Event.objects.all().delete()
        responses = _race([book(people[0]), book(people[1])])

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201, 409], [getattr(r, "content", r) for r in responses]
        loser = next(response for response in responses if response.status_code == 409)
        assert loser.json()["code"] == "host_conflict"
        assert Event.objects.filter(workspace=workspace, kind="appointment").count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_database_alone_lets_one_of_two_concurrent_inserts_win():
    """Without the service's lock, the exclusion constraint still refuses the second writer."""
    workspace = WorkspaceFactory()
    host = UserFactory()
    MembershipFactory(workspace=workspace, user=host, role=Role.MEMBER)
    start = datetime(2026, 6, 1, 8, tzinfo=UTC)

    def insert(title):
        def call():
            with transaction.atomic():
                return Event.objects.create(
                    workspace=workspace,
                    title=title,
                    kind=EventKind.APPOINTMENT,
                    host=host,
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                )

        return call

    results = _race([insert("A"), insert("B")])

    assert sum(isinstance(result, Event) for result in results) == 1, results
    # The loser is refused either by the constraint itself or, when both inserts reached the
    # check before either committed (each then waits for the other), as a deadlock victim.
    [loser] = [result for result in results if not isinstance(result, Event)]
    assert isinstance(loser, IntegrityError) or (
        isinstance(loser, OperationalError) and isinstance(loser.__cause__, psycopg.errors.DeadlockDetected)
    ), loser
    assert Event.objects.filter(workspace=workspace).count() == 1
