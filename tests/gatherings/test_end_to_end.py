"""A gathering planned together, from start to finish, through the public API and the guests' own
links: the date poll, the invitations with their calendar entry, the waitlist, the checklist and
its reminder, the shared costs and their settlement, the comments and a photo.

Only the clock is chosen (the tick runs at the times a reminder is due); every other step is an
HTTP request to a route people use, and what people are told is read from the outbox.
"""

import io
import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from events.models import Attendee, Event
from gatherings.models import Comment, EventFile
from notifications.models import Notification
from scheduling import tick as scheduling
from tests.conftest import client_for
from tests.events.conftest import office  # noqa: F401  (the Lima & Co office: an owner and its clients)
from tests.factories import PersonFactory
from tests.pages.conftest import BROWSER_ACCEPT

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
GPS_IFD = 0x8825
LINK_RE = re.compile(r"/rsvp/([A-Za-z0-9_-]{43})\b")
NAMES = ["Ana Lima", "Bo Berg", "Cy Diaz", "Dee Ek", "Eli Fox", "Fay Gu"]
OPTIONS = [
    {"starts_at": "2030-07-03T18:00:00", "ends_at": "2030-07-03T23:00:00"},
    {"starts_at": "2030-07-10T18:00:00", "ends_at": "2030-07-10T23:00:00"},
    {"date": "2030-07-12"},
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def guest_browser(n: int) -> Client:
    """A guest's own browser (each guest from their own address, as in life)."""
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT=BROWSER_ACCEPT, REMOTE_ADDR=f"198.51.100.{n + 1}")


def form_post(browser: Client, page_url: str, action: str, data: dict):
    """Opens the page, then posts its form with the page's CSRF token."""
    page = browser.get(page_url)
    assert page.status_code == 200, page.content
    return browser.post(action, {"csrfmiddlewaretoken": page.context["csrf_token"], **data})


def jpeg_with_location() -> bytes:
    image = Image.new("RGB", (900, 600), (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"
    exif.get_ifd(GPS_IFD)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as check:  # the photo really carries a location
        assert check.getexif().get_ifd(GPS_IFD)
    return data


def berlin(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=BERLIN).astimezone(UTC)


def test_a_gathering_planned_together_from_the_poll_to_the_photos(
    office,  # noqa: F811
    django_capture_on_commit_callbacks,
    time_machine,
):
    time_machine.move_to(datetime(2030, 6, 1, 8, 0, tzinfo=UTC))  # a month before the party
    api = APIClient()
    people = {
        name: PersonFactory(workspace=office.workspace, name=name, email=f"{name.split()[0].lower()}@example.com")
        for name in NAMES
    }
    host = client_for(office.owner)  # signed in at the travelled-to time
    api_root = f"/api/v1/workspaces/{office.workspace.id}"

    # --- the organiser creates the gathering (capacity 5) and opens a date poll -------------------
    with django_capture_on_commit_callbacks(execute=True):
        created = host.post(
            office.events_url,
            {
                "title": "Summer party",
                "kind": "gathering",
                "starts_at": "2030-07-03T18:00:00",
                "ends_at": "2030-07-03T23:00:00",
                "location": "Rooftop",
                "capacity": 5,
                "attendees": [str(p.pk) for p in people.values()],
            },
            format="json",
        )
    assert created.status_code == 201, created.content
    event_id = created.json()["id"]
    event_url = office.event_url(event_id)
    invites = Notification.objects.filter(idempotency_key__startswith=f"event:{event_id}:invite:")
    tokens = {row.person.name: LINK_RE.search(row.body).group(1) for row in invites.select_related("person")}
    assert sorted(tokens) == sorted(NAMES)

    opened = host.post(f"{event_url}poll", {"options": OPTIONS}, format="json")
    assert opened.status_code == 201, opened.content
    ids = [option["id"] for option in opened.json()["options"]]

    # --- five guests vote from their pages, each from their own time zone -------------------------
    ballots = {
        "Ana Lima": ({ids[0]: "no", ids[1]: "yes", ids[2]: "ifneedbe"}, "Europe/Berlin"),
        "Bo Berg": ({ids[0]: "yes", ids[1]: "yes", ids[2]: "no"}, "America/New_York"),
        "Cy Diaz": ({ids[0]: "ifneedbe", ids[1]: "yes", ids[2]: "yes"}, "Asia/Tokyo"),
        "Dee Ek": ({ids[0]: "no", ids[1]: "ifneedbe", ids[2]: "no"}, "Europe/Lisbon"),
        "Eli Fox": ({ids[0]: "yes", ids[1]: "yes", ids[2]: "no"}, "Australia/Sydney"),
    }
    for n, (name, (votes, zone)) in enumerate(ballots.items()):
        page_url = f"/rsvp/{tokens[name]}"
        page = guest_browser(n).get(page_url)
        assert "Which dates suit you?" in page.content.decode()
        voted = form_post(
            guest_browser(n),
            page_url,
            f"{page_url}/poll",
            {"time_zone": zone, **{f"vote-{option}": choice for option, choice in votes.items()}},
        )
        assert voted.status_code == 303, voted.content

    table = host.get(f"{event_url}poll").json()
    tallies = {o["id"]: (o["yes"], o["ifneedbe"], o["no"]) for o in table["options"]}
    assert tallies == {ids[0]: (2, 1, 2), ids[1]: (4, 1, 0), ids[2]: (1, 1, 3)}
    zones = {row["name"]: row["time_zone"] for row in table["voters"]}
    assert zones == {name: zone for name, (_, zone) in ballots.items()}

    # --- the organiser fixes the most popular date; everyone gets it with the calendar entry ------
    best = max(table["options"], key=lambda o: (o["yes"], o["ifneedbe"]))["id"]
    assert best == ids[1]
    with django_capture_on_commit_callbacks(execute=True):
        fixed = host.post(f"{event_url}poll/fix", {"option": best}, format="json")
    assert fixed.status_code == 200, fixed.content
    assert fixed.json()["starts_at"] == "2030-07-10T16:00:00Z"
    told = Notification.objects.filter(idempotency_key__startswith=f"event:{event_id}:fixed:").select_related("person")
    assert sorted(row.person.name for row in told) == sorted(NAMES)
    invitation = icalendar.Calendar.from_ical(invites.first().calendar)
    (first,) = invitation.walk("VEVENT")
    uids = {str(first["UID"])}
    for row in told:
        assert row.calendar, row.person.name
        calendar = icalendar.Calendar.from_ical(row.calendar)
        assert str(calendar["METHOD"]) == "REQUEST"
        (vevent,) = calendar.walk("VEVENT")
        assert vevent.decoded("DTSTART") == datetime(2030, 7, 10, 16, 0, tzinfo=UTC)
        assert vevent.decoded("DTEND") == datetime(2030, 7, 10, 21, 0, tzinfo=UTC)
        uids.add(str(vevent["UID"]))
        assert int(vevent["SEQUENCE"]) > int(first["SEQUENCE"])  # the calendar moves the entry it has
    assert len(uids) == 1  # one event in every calendar, by its UID
    assert event_id in uids.pop()
    late_vote = host.post(f"{event_url}poll/votes", {"votes": {ids[0]: "yes"}}, format="json")
    assert (late_vote.status_code, late_vote.json()["code"]) == (409, "poll_closed")

    # --- six yeses for five places: the sixth waits, and is offered the place when one declines ---
    for name in NAMES:
        with django_capture_on_commit_callbacks(execute=True):
            answered = api.post(f"/rsvp/{tokens[name]}", {"answer": "yes"}, format="json")
        assert answered.status_code == 200, answered.content
    fay = api.get(f"/rsvp/{tokens['Fay Gu']}").json()
    assert (fay["seat"], fay["waitlist_position"]) == ("waitlisted", 1)
    offer_key = f"event:{event_id}:offer:"
    assert not Notification.objects.filter(idempotency_key__startswith=offer_key).exists()

    with django_capture_on_commit_callbacks(execute=True):
        declined = api.post(f"/rsvp/{tokens['Dee Ek']}", {"answer": "no"}, format="json")
    assert declined.status_code == 200, declined.content
    offer = Notification.objects.get(idempotency_key__startswith=offer_key)
    assert (offer.person.name, offer.recipient) == ("Fay Gu", "fay@example.com")
    assert "A place has opened up" in offer.body
    confirmed = api.post(f"/rsvp/{tokens['Fay Gu']}", {"answer": "yes"}, format="json")
    assert confirmed.json()["seat"] == "going"
    seats = {row.person.name: row.seat for row in Attendee.objects.filter(event_id=event_id).select_related("person")}
    assert seats == {**{name: "going" for name in NAMES}, "Dee Ek": ""}

    # --- tasks assigned, and reminded by the tick the day before, once -----------------------------
    task_body = {"event": event_id, "title": "Bring the lanterns", "assignee": str(people["Bo Berg"].pk)}
    task = host.post(f"{api_root}/tasks/", {**task_body, "due_on": "2030-07-09"}, format="json")
    assert task.status_code == 201, task.content
    assert task.json()["assignee"] == str(people["Bo Berg"].pk)
    other_task = host.post(
        f"{api_root}/tasks/",
        {"event": event_id, "title": "Book the rooftop", "assignee": str(people["Cy Diaz"].pk), "due_on": "2030-07-05"},
        format="json",
    )
    assert other_task.status_code == 201, other_task.content

    def reminded(title: str):
        return Notification.objects.filter(body__contains=title).exclude(idempotency_key__startswith="event:")

    # The clock moves on: the rooftop reminder on 4 July, the lanterns on 8 July, each once.
    scheduling.tick(now=berlin(date(2030, 7, 4), time(8, 59)))
    assert not reminded("Book the rooftop").exists()
    scheduling.tick(now=berlin(date(2030, 7, 4), time(9, 0, 30)))
    scheduling.tick(now=berlin(date(2030, 7, 4), time(9, 3)))
    assert reminded("Book the rooftop").get().person_id == people["Cy Diaz"].pk
    scheduling.tick(now=berlin(date(2030, 7, 8), time(8, 59)))
    assert not reminded("Bring the lanterns").exists()
    for minute in (0, 1, 5):
        scheduling.tick(now=berlin(date(2030, 7, 8), time(9, minute, 30)))
    lanterns = reminded("Bring the lanterns").get()
    assert (lanterns.person_id, lanterns.recipient) == (people["Bo Berg"].pk, "bo@example.com")
    assert "Summer party" in lanterns.body
    assert reminded("Book the rooftop").count() == 1

    # --- three expenses, split three ways, settled with the fewest transfers -----------------------
    pid = {name: str(person.pk) for name, person in people.items()}
    expenses = [
        {  # equal among four: 100.00 / 4
            "description": "Food",
            "amount": "100.00",
            "paid_by": pid["Ana Lima"],
            "participants": [{"person": pid[n]} for n in ("Ana Lima", "Bo Berg", "Cy Diaz", "Eli Fox")],
        },
        {  # by shares 2:1:1 of 40.00
            "description": "Drinks",
            "amount": "40.00",
            "paid_by": pid["Bo Berg"],
            "split": "shares",
            "participants": [
                {"person": pid["Cy Diaz"], "shares": 2},
                {"person": pid["Eli Fox"], "shares": 1},
                {"person": pid["Fay Gu"], "shares": 1},
            ],
        },
        {  # exact parts of 25.50
            "description": "Lanterns",
            "amount": "25.50",
            "paid_by": pid["Fay Gu"],
            "split": "exact",
            "participants": [
                {"person": pid["Ana Lima"], "amount": "10.50"},
                {"person": pid["Fay Gu"], "amount": "5.00"},
                {"person": pid["Cy Diaz"], "amount": "10.00"},
            ],
        },
    ]
    for body in expenses:
        response = host.post(f"{api_root}/expenses/", {"event": event_id, **body}, format="json")
        assert response.status_code == 201, response.content
    costs_url = f"{event_url}costs"
    summary = host.get(costs_url).json()
    balances = {row["person"]: row["balance_minor"] for row in summary["participants"]}
    assert sum(balances.values()) == 0
    # Ana +100 -25 -10.50; Bo +40 -25; Cy -25 -20 -10; Eli -25 -10; Fay +25.50 -10 -5.
    expected = {"Ana Lima": 6450, "Bo Berg": 1500, "Cy Diaz": -5500, "Eli Fox": -3500, "Fay Gu": 1050}
    assert {pid[name]: value for name, value in expected.items()}.items() <= balances.items()
    assert all(value == 0 for person, value in balances.items() if person not in {pid[n] for n in expected})
    assert summary["total"] == "165.50"
    transfers = summary["transfers"]
    owing = [value for value in balances.values() if value]
    assert 0 < len(transfers) <= len(owing) - 1
    for transfer in transfers:
        settled = host.post(
            f"{api_root}/settlements/",
            {"event": event_id, "payer": transfer["payer"], "payee": transfer["payee"], "amount": transfer["amount"]},
            format="json",
        )
        assert settled.status_code == 201, settled.content
    after = host.get(costs_url).json()
    assert [row["balance_minor"] for row in after["participants"] if row["balance_minor"]] == []
    assert after["transfers"] == []
    assert after["settlement_count"] == len(transfers)

    # --- guests comment and upload a photo from their plan page -----------------------------------
    for n, (name, text) in enumerate([("Ana Lima", "Who brings music?"), ("Cy Diaz", "I will!")]):
        plan_url = f"/rsvp/{tokens[name]}/plan"
        posted = form_post(guest_browser(10 + n), plan_url, f"{plan_url}/comments", {"body": text})
        assert posted.status_code == 303, posted.content
    thread = host.get(f"{api_root}/comments/", {"event": event_id}).json()
    rows = thread["results"] if isinstance(thread, dict) else thread
    assert [(row["author_name"], row["body"]) for row in rows] == [
        ("Ana Lima", "Who brings music?"),
        ("Cy Diaz", "I will!"),
    ]
    assert Comment.objects.filter(event_id=event_id).count() == 2

    plan_url = f"/rsvp/{tokens['Eli Fox']}/plan"
    photo = SimpleUploadedFile("rooftop.jpg", jpeg_with_location(), content_type="image/jpeg")
    uploaded = form_post(guest_browser(20), plan_url, f"{plan_url}/files", {"file": photo})
    assert uploaded.status_code == 303, uploaded.content
    stored = EventFile.objects.get(event_id=event_id)
    assert stored.uploaded_by_person_id == people["Eli Fox"].pk
    with stored.file.open("rb") as handle, Image.open(handle) as image:
        assert image.format == "JPEG"
        assert not image.getexif().get_ifd(GPS_IFD)
        assert 0x010F not in image.getexif()
    files = host.get(f"{api_root}/files/", {"event": event_id}).json()
    listed = files["results"] if isinstance(files, dict) else files
    assert len(listed) == 1
    served = Client().get(re.sub(r"^https?://[^/]+", "", listed[0]["url"]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"

    # The event itself is where the poll put it.
    event = Event.objects.get(pk=event_id)
    assert (event.poll, event.starts_at) == ("closed", datetime(2030, 7, 10, 16, 0, tzinfo=UTC))
