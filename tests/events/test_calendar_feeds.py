"""iCalendar feeds: secret-token URLs (created once, listed masked, revocable) and valid RFC 5545 content."""

import re
from datetime import UTC, date, datetime, time
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from django.utils.text import slugify
from icalendar import Calendar

from events import feeds, services
from events.models import CalendarFeed, EventStatus
from tests.events.factories import EventFactory
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
URL_RE = re.compile(r"^https://app\.example\.com/calendar/([A-Za-z0-9_-]{43})\.ics$")


def feeds_url(office) -> str:
    return f"/api/v1/workspaces/{office.workspace.id}/calendar-feeds/"


def create_feed(client, office, scope="member") -> tuple[dict, str]:
    response = client.post(feeds_url(office), {"scope": scope}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    match = URL_RE.match(body["url"])
    assert match, body["url"]
    return body, match.group(1)


def fetch(client, token: str):
    return client.get(f"/calendar/{token}.ics")


def parse(response) -> Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n")), "RFC 5545 lines are folded at 75 octets"
    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]).startswith("-//BirthdayBuddy//")
    for component in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART"):
            assert required in component, (required, component)
        assert component.decoded("DTSTAMP").tzinfo is not None  # DTSTAMP is UTC
    return calendar


def by_uid_prefix(calendar: Calendar, prefix: str):
    return [c for c in calendar.walk("VEVENT") if str(c["UID"]).startswith(prefix)]


def summaries(calendar: Calendar) -> set[str]:
    return {str(c["SUMMARY"]) for c in calendar.walk("VEVENT")}


# --- the API ----------------------------------------------------------------------------------


def test_a_member_creates_their_feed_and_sees_the_url_only_once(office, api_client):
    body, token = create_feed(office.member_client, office)

    assert body["scope"] == "member"
    assert body["user"] == str(office.member.pk)
    assert body["revoked_at"] is None
    feed = CalendarFeed.objects.get(pk=body["id"])
    assert token not in feed.token_hash
    listed = office.member_client.get(feeds_url(office))
    assert listed.status_code == 200
    assert listed.json()["results"][0]["url"] is None
    assert listed.json()["results"][0]["url_hint"] == f"…/calendar/{token[:4]}….ics"
    assert token not in listed.content.decode()
    assert listed.json()["results"][0]["webcal_url"] is None
    assert listed.json()["results"][0]["google_calendar_url"] is None
    assert fetch(api_client, token).status_code == 200


def test_a_new_feed_comes_with_webcal_and_google_subscribe_links(office, api_client):
    body, token = create_feed(office.member_client, office)

    assert body["webcal_url"] == f"webcal://app.example.com/calendar/{token}.ics"
    google = urlsplit(body["google_calendar_url"])
    assert (google.scheme, google.netloc, google.path) == ("https", "calendar.google.com", "/calendar/render")
    assert parse_qs(google.query) == {"cid": [body["webcal_url"]]}


def test_the_download_is_named_after_the_feed(office, api_client):
    _, member_token = create_feed(office.member_client, office)
    _, workspace_token = create_feed(office.owner_client, office, scope="workspace")

    member_name = slugify(f"Lima & Co {office.member.get_full_name()}")
    assert fetch(api_client, workspace_token)["Content-Disposition"] == 'inline; filename="lima-co.ics"'
    assert fetch(api_client, member_token)["Content-Disposition"] == f'inline; filename="{member_name}.ics"'


def test_only_admins_create_the_workspace_feed(office):
    before = CalendarFeed.objects.count()
    refused = office.member_client.post(feeds_url(office), {"scope": "workspace"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "role_required"
    assert CalendarFeed.objects.count() == before
    body, _ = create_feed(office.admin_client, office, scope="workspace")
    assert (body["scope"], body["user"]) == ("workspace", None)


def test_bad_scope_is_400(office):
    response = office.owner_client.post(feeds_url(office), {"scope": "everyone"}, format="json")
    assert response.status_code == 400
    assert CalendarFeed.objects.count() == 0


def test_members_see_and_revoke_only_their_own_feeds_admins_all(office):
    member_feed, _ = create_feed(office.member_client, office)
    workspace_feed, _ = create_feed(office.owner_client, office, scope="workspace")

    assert {row["id"] for row in office.member_client.get(feeds_url(office)).json()["results"]} == {member_feed["id"]}
    assert {row["id"] for row in office.admin_client.get(feeds_url(office)).json()["results"]} == {
        member_feed["id"],
        workspace_feed["id"],
    }
    assert office.member_client.delete(f"{feeds_url(office)}{workspace_feed['id']}/").status_code == 404
    assert office.admin_client.delete(f"{feeds_url(office)}{member_feed['id']}/").status_code == 204


def test_a_revoked_feed_is_404(office, api_client):
    body, token = create_feed(office.member_client, office)
    assert fetch(api_client, token).status_code == 200

    revoked = office.member_client.delete(f"{feeds_url(office)}{body['id']}/")
    again = office.member_client.delete(f"{feeds_url(office)}{body['id']}/")

    assert (revoked.status_code, again.status_code) == (204, 204)
    assert fetch(api_client, token).status_code == 404
    listed = office.member_client.get(feeds_url(office)).json()["results"]
    assert listed[0]["revoked_at"] is not None


def test_a_member_feed_stops_when_the_member_leaves(office, api_client):
    _, token = create_feed(office.member_client, office)
    Membership.objects.filter(workspace=office.workspace, user=office.member).delete()
    assert fetch(api_client, token).status_code == 404


@pytest.mark.parametrize("token", ["unknown-token-that-is-long-enough-000000000", "short", "x" * 300])
def test_unknown_tokens_are_404(api_client, token, db):
    assert fetch(api_client, token).status_code == 404


def test_the_feed_supports_conditional_requests(office, api_client):
    _, token = create_feed(office.member_client, office)
    first = fetch(api_client, token)
    again = api_client.get(f"/calendar/{token}.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_calendar_clients_accept_headers_do_not_matter(office, api_client):
    _, token = create_feed(office.member_client, office)
    response = api_client.get(f"/calendar/{token}.ics", HTTP_ACCEPT="text/calendar")
    assert response.status_code == 200


def test_the_feed_is_throttled_per_ip(office, api_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"calendar": "2/min"}}
    _, token = create_feed(office.member_client, office)
    assert [fetch(api_client, token).status_code for _ in range(3)] == [200, 200, 429]


# --- the content ------------------------------------------------------------------------------


def test_the_workspace_feed_has_every_active_event_in_rfc_5545_form(office, api_client):
    services.event_create(
        workspace=office.workspace,
        created_by=office.owner,
        data={"title": "Board", "starts_at": datetime(2030, 5, 6, 10, 0), "ends_at": datetime(2030, 5, 6, 11, 0)},
    )
    services.event_create(
        workspace=office.workspace, created_by=office.owner, data={"title": "Closed", "date": date(2030, 12, 24)}
    )
    EventFactory(
        workspace=office.workspace, title="Called off", status=EventStatus.CANCELLED, cancelled_at=datetime.now(UTC)
    )
    _, token = create_feed(office.owner_client, office, scope="workspace")

    calendar = parse(fetch(api_client, token))

    events = {str(c["SUMMARY"]): c for c in calendar.walk("VEVENT")}
    assert "Called off" not in events
    board = events["Board"]
    assert board.decoded("DTSTART") == datetime(2030, 5, 6, 8, 0, tzinfo=UTC)  # one-off: UTC
    assert board.to_ical().decode().count("DTSTART:20300506T080000Z") == 1
    assert board.decoded("DTEND") == datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    closed = events["Closed"]
    assert closed.decoded("DTSTART") == date(2030, 12, 24)  # all-day: DATE
    assert closed.decoded("DTEND") == date(2030, 12, 25)
    assert "DTSTART;VALUE=DATE:20301224" in closed.to_ical().decode()


def test_recurring_timed_events_expand_in_local_time_across_dst(office, api_client):
    services.event_create(
        workspace=office.workspace,
        created_by=office.owner,
        data={
            "title": "Standup",
            "starts_at": datetime(2030, 3, 18, 9, 0),  # a Monday, winter time
            "ends_at": datetime(2030, 3, 18, 9, 15),
            "rrule": "FREQ=WEEKLY;UNTIL=20300415T215959Z",  # end of 15 April, Berlin
        },
    )
    _, token = create_feed(office.owner_client, office, scope="workspace")
    calendar = parse(fetch(api_client, token))

    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    standup = next(c for c in calendar.walk("VEVENT") if str(c["SUMMARY"]) == "Standup")
    assert "DTSTART;TZID=Europe/Berlin:20300318T090000" in standup.to_ical().decode()
    assert str(standup["DURATION"].to_ical().decode()) == "PT15M"
    rule = standup["RRULE"]
    assert rule["UNTIL"][0] == datetime(2030, 4, 15, 21, 59, 59, tzinfo=UTC)  # end of 15 April, Berlin, in UTC
    start = standup.decoded("DTSTART")
    occurrences = list(rrulestr(rule.to_ical().decode(), dtstart=start))
    assert [o.astimezone(BERLIN).time() for o in occurrences] == [time(9, 0)] * 5
    assert [o.astimezone(UTC).hour for o in occurrences] == [8, 8, 7, 7, 7]  # DST began on 31 March


def test_a_member_feed_has_the_events_they_host_or_attend(office, api_client):
    me = PersonFactory(workspace=office.workspace, name="Member Me", user=office.member)
    hosted = EventFactory(workspace=office.workspace, title="I host", host=office.member)
    attending = EventFactory(workspace=office.workspace, title="I attend")
    attending.attendances.create(person=me)
    EventFactory(workspace=office.workspace, title="Not mine")
    _, token = create_feed(office.member_client, office)

    calendar = parse(fetch(api_client, token))

    names = summaries(calendar)
    assert {hosted.title, attending.title} <= names
    assert "Not mine" not in names
    assert "🎂 Birthday: Ana Lima" in names  # the workspace's birthdays too


def test_birth_years_appear_only_for_people_who_show_their_age(office, api_client):
    hidden = PersonFactory(
        workspace=office.workspace, name="Hidden Year", birth_month=8, birth_day=9, birth_year=1985, show_age=False
    )
    shown = PersonFactory(
        workspace=office.workspace, name="Shown Year", birth_month=5, birth_day=17, birth_year=1990, show_age=True
    )
    _, token = create_feed(office.owner_client, office, scope="workspace")  # even the owner's feed hides it

    response = fetch(api_client, token)
    calendar = parse(response)

    assert b"1985" not in response.content
    [hidden_event] = by_uid_prefix(calendar, f"birthday-{hidden.pk}")
    assert hidden_event.decoded("DTSTART") == date(2000, 8, 9)
    assert "DESCRIPTION" not in hidden_event
    [shown_event] = by_uid_prefix(calendar, f"birthday-{shown.pk}")
    assert shown_event.decoded("DTSTART") == date(1990, 5, 17)
    assert str(shown_event["DESCRIPTION"]) == "Born in 1990."
    assert str(shown_event["RRULE"].to_ical().decode()) == "FREQ=YEARLY"
    assert shown_event.decoded("DTEND") == date(1990, 5, 18)


@pytest.mark.parametrize(
    ("policy", "common_year_day"),
    [("feb28", date(2027, 2, 28)), ("mar1", date(2027, 3, 1))],
)
def test_feb_29_birthdays_and_anniversaries_follow_the_leap_day_policy(office, api_client, policy, common_year_day):
    office.workspace.leap_day_policy = policy
    office.workspace.save()
    leapling = PersonFactory(
        workspace=office.workspace, name="Leap Ling", birth_month=2, birth_day=29, joined_on=date(2024, 2, 29)
    )
    _, token = create_feed(office.owner_client, office, scope="workspace")
    calendar = parse(fetch(api_client, token))

    for prefix in (f"birthday-{leapling.pk}", f"anniversary-{leapling.pk}"):
        [component] = by_uid_prefix(calendar, prefix)
        start = component.decoded("DTSTART")
        days = [
            d.date()
            for d in rrulestr(component["RRULE"].to_ical().decode(), dtstart=datetime.combine(start, time())).between(
                datetime(2027, 1, 1), datetime(2029, 1, 1), inc=True
            )
        ]
        assert days == [common_year_day, date(2028, 2, 29)], (prefix, days)


def test_work_anniversaries_start_on_the_first_anniversary(office, api_client):
    PersonFactory(
        workspace=office.workspace, name="New Joiner", birth_month=None, birth_day=None, joined_on=date(2021, 4, 1)
    )
    _, token = create_feed(office.owner_client, office, scope="workspace")
    calendar = parse(fetch(api_client, token))
    [anniversary] = [c for c in calendar.walk("VEVENT") if str(c["SUMMARY"]) == "🎉 Work anniversary: New Joiner"]
    assert anniversary.decoded("DTSTART") == date(2022, 4, 1)
    assert not [c for c in calendar.walk("VEVENT") if str(c["SUMMARY"]) == "🎂 Birthday: New Joiner"]


def test_feeds_of_other_workspaces_are_not_reachable_through_this_one(office, elsewhere):
    other_workspace, _ = elsewhere
    other_owner = UserFactory()
    MembershipFactory(workspace=other_workspace, user=other_owner, role=Role.OWNER)
    feed, _ = feeds.calendar_feed_create(workspace=other_workspace, scope="workspace", actor=other_owner)
    assert office.owner_client.get(f"{feeds_url(office)}{feed.pk}/").status_code == 404
    assert office.owner_client.delete(f"{feeds_url(office)}{feed.pk}/").status_code == 404
