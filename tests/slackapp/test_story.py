"""The whole Slack story, as the README tells it, against the fake Slack Web API.

An admin installs the app; members add their dates with ``/birthday`` and with the onboarding
DM's buttons; an advance alert lets a teammate write on the group card; on the next working day
at the right local time the channel gets one post (its replies and the card in the thread), and
each person their own greeting at nine in their own zone. Everything goes through HTTP (signed
Slack requests, the JWT API), the real tick and the real delivery tasks; only Slack is a fake.
"""

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from cards import blocks as card_blocks
from notifications.models import ChannelConfig, Notification
from notifications.services import notifications_sweep
from scheduling.tick import tick
from tests.conftest import client_for
from tests.factories import UserFactory
from workspaces.models import Person

pytestmark = pytest.mark.django_db

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
MONDAY = date(2027, 4, 5)
FRIDAY, SATURDAY = date(2027, 4, 9), date(2027, 4, 10)


def at(day: date, clock: time, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


class Story:
    """What the people of the story do; each step at its own moment."""

    def __init__(self, slack, slack_api, run_tasks, capture):
        self.slack, self.api, self.run_tasks, self.capture = slack, slack_api, run_tasks, capture
        self.owner = UserFactory(email="ada@acme.example", first_name="Ada", last_name="Admin")

    def when(self, instant: datetime):
        return time_machine.travel(instant, tick=False)

    def rest(self, path: str, method: str = "get", **data):
        client = client_for(self.owner)  # a fresh token: the story spans days
        call = getattr(client, method)
        with self.capture(execute=True):  # what the request queues after its commit
            response = call(f"/api/v1{path}", data, format="json") if data else call(f"/api/v1{path}")
        assert response.status_code < 300, (path, response.status_code, response.content)
        return response.json() if response.content else None

    def deliver(self) -> None:
        """Runs the queued work (deliveries, replies released by their posts) until nothing is left."""
        while self.run_tasks():
            pass

    def tick(self, instant: datetime) -> None:
        """The beat's tick at ``instant``, then the next two minutes of the worker: deliveries, and
        the sweeper re-queuing what waited (Slack's one message a second per channel)."""
        with self.when(instant), self.capture(execute=True):
            tick(now=instant)
        for seconds in range(2, 120, 10):
            with self.when(instant + timedelta(seconds=seconds)), self.capture(execute=True):
                notifications_sweep()
                self.deliver()

    def posts(self, **match) -> list[dict]:
        bodies = [call.body for call in self.api.calls("chat.postMessage")]
        return [body for body in bodies if all(body.get(key) == value for key, value in match.items())]


@pytest.fixture
def story(slack, slack_api, run_tasks, django_capture_on_commit_callbacks):
    return Story(slack, slack_api, run_tasks, django_capture_on_commit_callbacks)


def test_install_dates_card_and_the_day_itself(story, client):
    api = story.api
    api.add_user("UADA", email="ada@acme.example", name="Ada Admin", tz="Europe/Berlin")
    api.add_user("UBO", email="bo@acme.example", name="Bo Builder", tz="America/New_York")
    api.add_user("UCY", email="cy@acme.example", name="Cy Coder", tz="Europe/Berlin")

    # Monday 10:00 in Berlin: Ada makes the workspace, adds her team and installs the app.
    with story.when(at(MONDAY, time(10))):
        workspace = story.rest("/workspaces/", "post", name="Acme", timezone="Europe/Berlin", notify_at="09:00")
        ws = workspace["id"]
        # Ada's own person comes with the workspace; her team:
        for name, email in (("Bo Builder", "bo@acme.example"), ("Cy Coder", "cy@acme.example")):
            story.rest(f"/workspaces/{ws}/people/", "post", name=name, email=email)
        # Weekend birthdays are announced on the working day before; each person greeted at 09:00 in their zone.
        story.rest(f"/workspaces/{ws}/", "patch", celebration_shift="working_day_before", greet_in_own_zone=True)
        url = story.rest(f"/workspaces/{ws}/slack/install-url", "post")["url"]
        state = parse_qs(urlsplit(url).query)["state"][0]
        with story.capture(execute=True):
            page = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
        assert page.status_code == 200
        assert "BirthdayBuddy is in Slack" in page.content.decode()
        story.deliver()  # the directory sync that follows the install
    people = Person.objects.filter(workspace_id=ws)
    assert {(p.email, p.slack_user_id, p.timezone) for p in people} == {
        ("ada@acme.example", "UADA", "Europe/Berlin"),
        ("bo@acme.example", "UBO", "America/New_York"),
        ("cy@acme.example", "UCY", "Europe/Berlin"),
    }
    channel = ChannelConfig.objects.get(workspace_id=ws, kind="slack")
    assert (channel.channel_id, bool(channel.bot_token)) == ("C0CELEB", True)

    with story.when(at(MONDAY, time(10, 5))):
        # The digest in a thread; alerts two days ahead to the admins, with the group card.
        story.rest(f"/workspaces/{ws}/channels/{channel.pk}/", "patch", digest_layout="threaded")
        story.rest(f"/workspaces/{ws}/celebration-prep", "patch", alert_days=2, group_card=True)
        # Each celebrated person also gets a greeting of their own.
        reminders = story.rest(f"/workspaces/{ws}/reminders/?kind=birthday_digest")["results"]
        story.rest(f"/workspaces/{ws}/reminders/{reminders[0]['id']}/", "patch", personal_greetings=True)

        # Bo types his birthday (a Saturday this year).
        assert story.slack.command("T0ALPHA", "UBO", "set 10 April").status_code == 200
        story.deliver()
        # Cy is asked by DM and answers with the buttons and the form.
        story.rest(f"/workspaces/{ws}/slack/onboarding", "post")
        story.deliver()
    asked = story.posts(channel="DCY")
    assert [e["action_id"] for b in asked[-1]["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
        "consent_accept",
        "consent_decline",
    ]
    with story.when(at(MONDAY, time(10, 10))):
        consent = {"type": "block_actions", "team": {"id": "T0ALPHA"}, "user": {"id": "UCY"}, "trigger_id": "7.7.7"}
        story.slack.interaction({**consent, "actions": [{"action_id": "consent_accept"}]})
        story.deliver()
        assert api.calls("views.open")[-1].body["trigger_id"] == "7.7.7"
        form = {
            "birthday": {"birthday_date": {"selected_date": "1990-04-09"}},
            "no_year": {"no_year_choice": {"selected_options": []}},
            "joined_on": {"joined_on_date": {"selected_date": None}},
            "show_age": {"show_age_choice": {"selected_option": {"value": "no"}}},
        }
        submission = {
            "type": "view_submission",
            "team": {"id": "T0ALPHA"},
            "user": {"id": "UCY"},
            "view": {"callback_id": "birthday_profile", "state": {"values": form}},
        }
        assert story.slack.interaction(submission).status_code == 200
        story.deliver()
    bo, cy = Person.objects.get(slack_user_id="UBO"), Person.objects.get(slack_user_id="UCY")
    assert (bo.birth_month, bo.birth_day, cy.birth_month, cy.birth_day) == (4, 10, 4, 9)

    # Wednesday 09:00: the alert about Friday reaches Ada, with the card's button; nobody else.
    story.tick(at(FRIDAY - timedelta(days=2), time(9), BERLIN) + timedelta(seconds=5))
    alerts = [post for post in story.posts() if post.get("blocks") and "card_add_wishes" in str(post["blocks"])]
    assert {post["channel"] for post in alerts} == {"UADA"}
    assert len(alerts) == 2  # Bo's birthday (on Saturday) and Cy's, both announced on Friday
    assert not story.posts(channel="UBO")
    assert not story.posts(channel="UCY")
    bo_alert = next(post for post in alerts if "Bo Builder" in post["text"])
    button = next(e for b in bo_alert["blocks"] if b["type"] == "actions" for e in b["elements"])

    with story.when(at(FRIDAY - timedelta(days=2), time(9, 30))):
        click = {"type": "block_actions", "team": {"id": "T0ALPHA"}, "user": {"id": "UADA"}, "trigger_id": "8.8.8"}
        story.slack.interaction(
            {**click, "actions": [{"action_id": card_blocks.ACTION_ADD_WISHES, "value": button["value"]}]}
        )
        story.deliver()
        values = {
            card_blocks.WISH_BLOCK: {
                card_blocks.WISH_ACTION: {"type": "plain_text_input", "value": "Happy birthday, Bo!"}
            }
        }
        wish = {
            "type": "view_submission",
            "team": {"id": "T0ALPHA"},
            "user": {"id": "UADA"},
            "view": {
                "callback_id": card_blocks.WISH_MODAL,
                "private_metadata": button["value"],
                "state": {"values": values},
            },
        }
        assert story.slack.interaction(wish).status_code == 200
        story.deliver()

    # Thursday: nothing is announced; the card is still a secret.
    story.tick(at(FRIDAY - timedelta(days=1), time(9)) + timedelta(seconds=5))
    assert not story.posts(channel="C0CELEB")

    # Friday 09:00 in Berlin: one post in the channel, a reply per celebration and the card in its thread;
    # Cy (Berlin) is greeted now, Bo (New York) not yet.
    story.tick(at(FRIDAY, time(9)) + timedelta(seconds=5))
    channel_posts = story.posts(channel="C0CELEB")
    (post,) = [p for p in channel_posts if not p.get("thread_ts")]
    replies = [p for p in channel_posts if p.get("thread_ts")]
    assert post["text"] == "🎉 2 celebrations today"
    assert {p["thread_ts"] for p in replies} == {post_ts(story, post)}
    assert [p["text"] for p in replies] == [
        "🎂 Happy birthday, <@UBO>! (on Saturday)",
        "🎂 Happy birthday, <@UCY>!",
        "The team's card for <@UBO>:\n• Happy birthday, Bo! — Ada Admin",
    ]
    # Cy (Berlin) has her greeting by email now; Bo (New York) his greeting and his card at his nine.
    assert greetings() == {"cy@acme.example": 1}
    assert cards_to("bo@acme.example") == []

    story.tick(at(FRIDAY, time(9), NEW_YORK) + timedelta(seconds=5))
    assert greetings() == {"cy@acme.example": 1, "bo@acme.example": 1}
    (card,) = cards_to("bo@acme.example")
    assert "Happy birthday, Bo! — Ada Admin" in card.body
    assert len(story.posts(channel="C0CELEB")) == len(channel_posts)  # one post a day, whatever ticks
    story.tick(at(FRIDAY, time(9, 1), NEW_YORK) + timedelta(seconds=5))
    assert greetings() == {"cy@acme.example": 1, "bo@acme.example": 1}
    # Nobody was told about their own celebration before the day.
    early = Notification.objects.filter(occurrence_date__lt=FRIDAY)
    assert not early.filter(recipient__in=["UBO", "UCY", "bo@acme.example", "cy@acme.example"]).exists()


def post_ts(story, post: dict) -> str:
    """The ``ts`` the fake Slack answered for ``post``."""
    row = Notification.objects.get(body=post["text"], channel="slack", thread_parent__isnull=True, person=None)
    return row.provider_message_id


def greetings() -> dict[str, int]:
    """Greeting emails sent, per address (known by their notification: the wording is one of several variants)."""
    greeting_ids = {
        str(pk)
        for pk in Notification.objects.filter(idempotency_key__contains=":greeting-").values_list("pk", flat=True)
    }
    found: dict[str, int] = {}
    for message in mail.outbox:
        if message.extra_headers.get("X-BirthdayBuddy-Notification") in greeting_ids:
            for address in message.to:
                found[address] = found.get(address, 0) + 1
    return found


def cards_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to and "card" in message.subject.lower()]
