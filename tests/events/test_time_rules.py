"""Events follow RFC 5545 §3.3.5 in a DST gap on every surface (API, conflicts, reminders), keep the
wall-clock anchor of their series, and take EXDATE/RDATE."""

from datetime import UTC, datetime

import pytest

from events.models import Event
from reminders.models import Reminder
from reminders.services import reminder_create
from tests.events.test_conflicts import booking

pytestmark = pytest.mark.django_db

# Berlin springs forward on 28 March 2027: 02:00 CET → 03:00 CEST. RFC 5545 reads 02:30 with the
# offset before the gap (+01:00): 01:30 UTC, i.e. 03:30 CEST — what every calendar client shows.
GAP_DAY = "2027-03-28"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_event_inside_the_gap_is_accepted_at_rfc_5545s_instants(office):
    response = office.owner_client.post(
        office.events_url,
        {"title": "Night shift handover", "starts_at": f"{GAP_DAY}T02:30:00", "ends_at": f"{GAP_DAY}T02:45:00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["starts_at"] == "2027-03-28T01:30:00Z"
    assert response.json()["ends_at"] == "2027-03-28T01:45:00Z"


def test_the_conflict_check_uses_the_same_instants(office):
    first = office.owner_client.post(
        office.events_url, booking(office, f"{GAP_DAY}T02:30:00", f"{GAP_DAY}T02:45:00"), format="json"
    )
    assert first.status_code == 201, first.json()
    # 03:35 CEST is 01:35 UTC: inside the first appointment as calendars show it (03:30-03:45 CEST).
    clash = office.owner_client.post(
        office.events_url, booking(office, f"{GAP_DAY}T03:35:00", f"{GAP_DAY}T03:40:00"), format="json"
    )
    assert clash.status_code == 409, clash.json()
    assert clash.json()["conflict_occurrence"]["starts_at"] == "2027-03-28T01:30:00Z"
    # 03:00-03:25 CEST (01:00-01:25 UTC) ends before it starts.
    free = office.owner_client.post(
        office.events_url, booking(office, f"{GAP_DAY}T03:00:00", f"{GAP_DAY}T03:25:00"), format="json"
    )
    assert free.status_code == 201, free.json()


def test_a_weekly_series_through_the_gap_keeps_its_wall_time_and_the_standards_instant(office):
    response = office.owner_client.post(
        office.events_url,
        {"title": "Backup check", "starts_at": "2027-03-21T02:30:00", "rrule": "FREQ=WEEKLY"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    listing = office.owner_client.get(f"{office.events_url}?from=2027-03-20&to=2027-04-12").json()["results"]
    occurrences = next(item for item in listing if item["title"] == "Backup check")["occurrences"]
    assert [item["starts_at"] for item in occurrences] == [
        "2027-03-21T01:30:00Z",  # 02:30 CET
        "2027-03-28T01:30:00Z",  # 02:30 does not exist: 03:30 CEST
        "2027-04-04T00:30:00Z",  # 02:30 CEST
        "2027-04-11T00:30:00Z",
    ]


def test_a_series_starting_in_the_gap_stays_at_its_wall_time(office):
    response = office.owner_client.post(
        office.events_url,
        {"title": "Backup check", "starts_at": f"{GAP_DAY}T02:30:00", "rrule": "FREQ=WEEKLY;COUNT=3"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    event = Event.objects.get(pk=response.json()["id"])
    assert event.starts_local == "2027-03-28T02:30:00"
    listing = office.owner_client.get(f"{office.events_url}?from=2027-03-27&to=2027-04-30").json()["results"]
    occurrences = next(item for item in listing if item["title"] == "Backup check")["occurrences"]
    assert [item["starts_at"] for item in occurrences] == [
        "2027-03-28T01:30:00Z",
        "2027-04-04T00:30:00Z",  # 02:30 CEST, not 03:30
        "2027-04-11T00:30:00Z",
    ]


def test_event_reminders_fire_at_the_instant_calendars_show(office):
    event = office.owner_client.post(
        office.events_url,
        {"title": "Backup check", "starts_at": f"{GAP_DAY}T02:30:00", "ends_at": f"{GAP_DAY}T02:45:00"},
        format="json",
    ).json()
    reminder = reminder_create(
        workspace=office.workspace,
        now=utc(2027, 3, 1),
        data={"kind": "event", "event": event["id"], "event_id": event["id"], "offset_minutes": 15},
    )
    reminder = Reminder.objects.get(pk=reminder.pk)
    assert reminder.next_run_at == utc(2027, 3, 28, 1, 15)


def test_exdates_and_rdates_shape_the_occurrences(office):
    response = office.owner_client.post(
        office.events_url,
        {
            "title": "Standup",
            "starts_at": "2027-05-03T09:00:00",
            "ends_at": "2027-05-03T09:15:00",
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "exdates": ["2027-05-17"],
            "rdates": ["2027-05-19T10:00:00"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["exdates"] == ["2027-05-17T09:00:00"]
    assert body["rdates"] == ["2027-05-19T10:00:00"]
    listing = office.owner_client.get(f"{office.events_url}?from=2027-05-01&to=2027-05-31").json()["results"]
    occurrences = next(item for item in listing if item["title"] == "Standup")["occurrences"]
    assert [(item["starts_at"], item["ends_at"]) for item in occurrences] == [
        ("2027-05-03T07:00:00Z", "2027-05-03T07:15:00Z"),
        ("2027-05-10T07:00:00Z", "2027-05-10T07:15:00Z"),
        ("2027-05-19T08:00:00Z", "2027-05-19T08:15:00Z"),
        ("2027-05-24T07:00:00Z", "2027-05-24T07:15:00Z"),
        ("2027-05-31T07:00:00Z", "2027-05-31T07:15:00Z"),
    ]


def test_exdates_need_a_rule_and_valid_values(office):
    once = office.owner_client.post(
        office.events_url,
        {"title": "Once", "starts_at": "2027-05-03T09:00:00", "exdates": ["2027-05-17"]},
        format="json",
    )
    assert once.status_code == 400
    assert once.json()["errors"]["exdates"][0].startswith("exdates adjust a repeating event")
    bad = office.owner_client.post(
        office.events_url,
        {"title": "Weekly", "starts_at": "2027-05-03T09:00:00", "rrule": "FREQ=WEEKLY", "rdates": ["soon"]},
        format="json",
    )
    assert bad.status_code == 400
    assert "rdates: 'soon' is not" in bad.json()["errors"]["rdates"][0]
    all_day = office.owner_client.post(
        office.events_url,
        {"title": "Holiday", "date": "2027-05-03", "rrule": "FREQ=WEEKLY", "exdates": ["2027-05-10T09:00:00"]},
        format="json",
    )
    assert all_day.status_code == 400
    assert Event.objects.count() == 0
