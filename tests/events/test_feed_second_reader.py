"""The published feed read by other iCalendar implementations than the one that writes it.

``recurring-ical-events`` expands every event of the feed; its instants must be the API's, across
both DST changes, a time in the spring-forward gap (RFC 5545 §3.3.5) and EXDATE/RDATE. ``vobject``
builds its time zone from the feed's own VTIMEZONE (not the host's database): its offsets must
match the pinned tz database decades ahead, so unbounded series stay right in the subscriber's
calendar.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import vobject
from icalendar import Calendar

from tests.conftest import client_for
from tests.events.test_calendar_feeds import create_feed, fetch
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

WINDOW = (date(2027, 1, 1), date(2028, 1, 1))


@pytest.fixture
def new_york():
    workspace = WorkspaceFactory(name="Smith, Jones; Partners", timezone="America/New_York")
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    client = client_for(owner)
    url = f"/api/v1/workspaces/{workspace.id}/events/"
    events = [
        # Weekly through both changes (09:00 EST → EDT → EST).
        {"title": "Standup", "starts_at": "2027-02-01T09:00", "ends_at": "2027-02-01T09:15", "rrule": "FREQ=WEEKLY"},
        # 02:30 each Sunday: on 14 March 2027 it does not exist.
        {"title": "Backup", "starts_at": "2027-03-07T02:30", "ends_at": "2027-03-07T02:45", "rrule": "FREQ=WEEKLY"},
        # Starts inside the gap: the series keeps 02:30.
        {"title": "Gap start", "starts_at": "2027-03-14T02:30", "rrule": "FREQ=DAILY;COUNT=4"},
        # Ambiguous 01:30 on 7 November 2027: its first occurrence.
        {"title": "Fold", "starts_at": "2027-11-06T01:30", "ends_at": "2027-11-06T02:00", "rrule": "FREQ=DAILY"},
        # Bounded by a UTC instant (inclusive: the 5 April one is the last), minus and plus single dates.
        {
            "title": "Payroll",
            "starts_at": "2027-03-01T17:00",
            "ends_at": "2027-03-01T17:30",
            "rrule": "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270405T210000Z",
            "exdates": ["2027-03-15"],
            "rdates": ["2027-03-17T08:00"],
        },
        {"title": "Holiday", "date": "2027-03-01", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1", "exdates": ["2027-05-01"]},
        {"title": "One-off", "starts_at": "2027-03-14T02:15", "ends_at": "2027-03-14T04:00"},
    ]
    for body in events:
        response = client.post(url, body, format="json")
        assert response.status_code == 201, (body, response.json())
    return workspace, client, url


def api_occurrences(client, url) -> dict[str, set]:
    found: dict[str, set] = {}
    page = f"{url}?from={WINDOW[0]}&to={WINDOW[1] - timedelta(days=1)}&page_size=200"
    for event in client.get(page).json()["results"]:
        found[event["id"]] = {
            (item["starts_at"], item["ends_at"]) if item["starts_at"] else (item["date"], None)
            for item in event["occurrences"]
        }
    return found


def iso(value) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def test_another_engine_expands_the_feed_to_the_apis_instants(new_york, api_client):
    workspace, client, url = new_york
    _, token = create_feed(client, type("Office", (), {"workspace": workspace})(), scope="workspace")
    calendar = Calendar.from_ical(fetch(api_client, token).content)

    theirs: dict[str, set] = {}
    for component in recurring_ical_events.of(calendar).between(*WINDOW):
        uid = str(component["UID"]).split("@")[0]
        start = component["DTSTART"].dt
        if isinstance(start, datetime):
            # RFC 5545 §3.3.6: PT30M is an exact duration. The reader adds it in wall-clock time
            # (Python's aware arithmetic), an hour off across a fall-back; its length is what counts.
            length = component["DTEND"].dt - start if "DTEND" in component else timedelta(0)
            end = iso(start.astimezone(UTC) + length) if length else None
            theirs.setdefault(uid, set()).add((iso(start), end))
        else:
            theirs.setdefault(uid, set()).add((iso(start), None))
    ours = api_occurrences(client, url)

    events = {uid: spans for uid, spans in ours.items() if spans}
    assert set(events) <= set(theirs)
    for uid, spans in events.items():
        assert theirs[uid] == spans, uid
    by_title = {event["title"]: event["id"] for event in client.get(url).json()["results"]}
    assert ("2027-03-14T07:30:00Z", "2027-03-14T07:45:00Z") in ours[by_title["Backup"]]  # 02:30 → 03:30 EDT
    assert {start for start, _ in ours[by_title["Gap start"]]} == {
        "2027-03-14T07:30:00Z",
        "2027-03-15T06:30:00Z",
        "2027-03-16T06:30:00Z",
        "2027-03-17T06:30:00Z",
    }
    assert ("2027-11-07T05:30:00Z", "2027-11-07T06:00:00Z") in ours[by_title["Fold"]]  # 01:30 EDT, the first
    payroll = sorted(start for start, _ in ours[by_title["Payroll"]])
    assert payroll == [
        "2027-03-01T22:00:00Z",
        "2027-03-08T22:00:00Z",
        "2027-03-17T12:00:00Z",
        "2027-03-22T21:00:00Z",
        "2027-03-29T21:00:00Z",
        "2027-04-05T21:00:00Z",
    ]


def test_the_vtimezone_matches_the_tz_database_for_decades(new_york, api_client):
    workspace, client, _ = new_york
    _, token = create_feed(client, type("Office", (), {"workspace": workspace})(), scope="workspace")
    raw = fetch(api_client, token).content.decode()

    component = vobject.readOne(raw)
    their_zone = component.vtimezone.gettzinfo()
    zone = ZoneInfo("America/New_York")
    for year in range(2027, 2100, 3):
        for month, day in ((1, 15), (4, 15), (7, 15), (10, 15), (11, 20)):
            instant = datetime(year, month, day, 12, tzinfo=UTC)
            assert instant.astimezone(their_zone).utcoffset() == instant.astimezone(zone).utcoffset(), instant
    # Each RDATE (and EXDATE) has one value: a widely used client reads only the first of a list.
    lines = raw.replace("\r\n ", "").split("\r\n")
    assert not [line for line in lines if line.startswith(("RDATE", "EXDATE")) and "," in line.split(":", 1)[1]]
    assert "EXDATE;TZID=America/New_York:20270315T170000" in lines
    assert "RDATE;TZID=America/New_York:20270317T080000" in lines
    assert "X-WR-CALNAME:Smith\\, Jones\\; Partners" in lines
