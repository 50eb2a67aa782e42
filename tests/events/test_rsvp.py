"""Gatherings: invitations through the delivery pipeline, personal RSVP links, counts, change and cancel notices."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from events.messages import event_invitations_write
from events.models import Attendee, Event, EventKind
from notifications import services as notification_services
from notifications.models import Notification, NotificationStatus
from tests.events.factories import EventFactory
from tests.factories import PersonFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https://app\.example\.com/rsvp/([A-Za-z0-9_-]{43})")


def gathering(office, **overrides) -> dict:
    return {
        "title": "Summer party",
        "kind": "gathering",
        "starts_at": "2030-07-03T18:00:00",
        "ends_at": "2030-07-03T23:00:00",
        "location": "Rooftop",
        "attendees": [str(office.ana.pk), str(office.bo.pk), str(office.cy.pk)],
        **overrides,
    }


def token_in(notification: Notification) -> str:
    match = LINK_RE.search(notification.body)
    assert match, notification.body
    return match.group(1)


def invitations(event_id) -> dict[str, Notification]:
    """The event's invitations by person name."""
    rows = Notification.objects.filter(idempotency_key__startswith=f"event:{event_id}:invite:").select_related("person")
    return {row.person.name: row for row in rows}


@pytest.fixture
def party(office, django_capture_on_commit_callbacks):
    """A gathering of Ana, Bo and Cy, created through the API with its invitations written."""
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(office.events_url, gathering(office))
    assert response.status_code == 201, response.content
    event = Event.objects.get(pk=response.json()["id"])
    return event, {name: token_in(row) for name, row in invitations(event.pk).items()}


def rsvp(client, token, **body):
    return client.post(f"/rsvp/{token}", body, format="json") if body else client.get(f"/rsvp/{token}")


# --- invitations ------------------------------------------------------------------------------


def test_each_attendee_gets_one_invitation_with_a_personal_link(office, party):
    event, tokens = party
    rows = invitations(event.pk)

    assert set(rows) == {"Ana Lima", "Bo Berg", "Cy Diaz"}
    for name, row in rows.items():
        attendee = Attendee.objects.get(event=event, person__name=name)
        assert row.channel == "email"
        assert row.recipient == attendee.person.email
        assert row.status == NotificationStatus.PENDING
        assert row.idempotency_key == f"event:{event.pk}:invite:{attendee.pk}:email"
        assert "Summer party" in row.subject
        assert "Rooftop" in row.body
        assert "Wednesday 3 July 2030, 18:00 to 23:00 (Europe/Berlin)" in row.body
        assert row.reminder_id is None
        # Only the token's hash is stored; the token itself is only in the message.
        assert attendee.rsvp_token_hash == hashlib.sha256(tokens[name].encode()).hexdigest()
        assert attendee.invited_at is not None
    assert len(set(tokens.values())) == 3


def test_invitations_are_idempotent_and_keep_the_sent_link_working(office, party):
    event, tokens = party
    count = Notification.objects.count()

    again = event_invitations_write(
        event_id=event.pk, attendee_ids=list(event.attendances.values_list("pk", flat=True))
    )

    assert again == []
    assert Notification.objects.count() == count
    assert rsvp(office.owner_client, tokens["Ana Lima"]).status_code == 200


def test_invitations_use_the_first_preferred_channel_that_can_reach_the_person(
    office, django_capture_on_commit_callbacks
):
    ChannelConfigFactory(
        workspace=office.workspace,
        kind="whatsapp",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
    )
    sms_first = PersonFactory(
        workspace=office.workspace, name="Sms First", preferred_channels=["sms", "email"], phone="+14155550111"
    )
    whatsapp = PersonFactory(
        workspace=office.workspace, name="Wa User", preferred_channels=["whatsapp"], phone="+14155550122"
    )
    opted_out = PersonFactory(
        workspace=office.workspace,
        name="Opted Out",
        preferred_channels=["whatsapp", "email"],
        opted_out_channels=[],
        phone="",
    )
    unreachable = PersonFactory(workspace=office.workspace, name="No Way", preferred_channels=["slack"], email="")
    people = [sms_first, whatsapp, opted_out, unreachable]

    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(office.events_url, gathering(office, attendees=[str(p.pk) for p in people]))

    rows = invitations(response.json()["id"])
    assert {name: (row.channel, row.recipient) for name, row in rows.items()} == {
        "Sms First": ("email", sms_first.email),  # no SMS channel configured
        "Wa User": ("whatsapp", "+14155550122"),
        "Opted Out": ("email", opted_out.email),  # no phone for WhatsApp
    }
    assert Attendee.objects.get(person=unreachable).invited_at is None


def test_appointments_and_deadlines_send_no_invitations(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        office.owner_client.post(
            office.events_url, gathering(office, kind="deadline", attendees=[str(office.ana.pk)], ends_at=None)
        )
    assert Notification.objects.count() == 0


def test_a_new_attendee_is_invited_and_nobody_else_again(office, party, django_capture_on_commit_callbacks):
    event, _ = party
    dan = PersonFactory(workspace=office.workspace, name="Dan Eriksen")
    attendees = [*(str(pk) for pk in event.attendances.values_list("person_id", flat=True)), str(dan.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.patch(office.event_url(event.pk), {"attendees": attendees})

    assert response.status_code == 200
    assert set(invitations(event.pk)) == {"Ana Lima", "Bo Berg", "Cy Diaz", "Dan Eriksen"}
    assert Notification.objects.count() == 4


def test_an_invitation_is_delivered_by_email_with_its_link(office, party):
    ChannelConfigFactory(workspace=office.workspace, kind="email", webhook_url=None, from_name="Lima & Co")
    event, tokens = party
    row = invitations(event.pk)["Ana Lima"]

    outcome = notification_services.notification_deliver(notification_id=row.pk)

    assert outcome == "sent"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert f"https://app.example.com/rsvp/{tokens['Ana Lima']}" in mail.outbox[0].body


# --- the RSVP link ----------------------------------------------------------------------------


def test_the_link_shows_the_event_and_records_answers_that_the_organiser_sees(office, party, api_client):
    event, tokens = party

    shown = rsvp(api_client, tokens["Ana Lima"])
    assert shown.status_code == 200
    body = shown.json()
    assert body["name"] == "Ana Lima"
    assert body["answer"] == "pending"
    assert body["event"]["title"] == "Summer party"
    assert body["event"]["starts_at"] == "2030-07-03T16:00:00Z"
    assert body["event"]["organiser"] == "Lima & Co"
    assert "attendees" not in body["event"]

    yes = rsvp(api_client, tokens["Ana Lima"], answer="yes", note="  Bringing cake  ")
    maybe = rsvp(api_client, tokens["Bo Berg"], answer="maybe")
    changed = rsvp(api_client, tokens["Bo Berg"], answer="no")

    assert (yes.status_code, maybe.status_code, changed.status_code) == (200, 200, 200)
    assert yes.json()["answer"] == "yes"
    assert yes.json()["note"] == "Bringing cake"
    assert yes.json()["responded_at"]

    detail = office.owner_client.get(office.event_url(event.pk)).json()
    assert detail["rsvp_counts"] == {"yes": 1, "no": 1, "maybe": 0, "pending": 1}
    answers = office.owner_client.get(office.event_url(event.pk) + "attendees/")
    assert answers.status_code == 200
    assert {row["name"]: (row["answer"], row["note"]) for row in answers.json()["results"]} == {
        "Ana Lima": ("yes", "Bringing cake"),
        "Bo Berg": ("no", ""),
        "Cy Diaz": ("pending", ""),
    }


def test_only_the_organisers_see_the_answers(office, party):
    event, _ = party
    assert office.member_client.get(office.event_url(event.pk) + "attendees/").status_code == 403
    Event.objects.filter(pk=event.pk).update(host=office.member)
    assert office.member_client.get(office.event_url(event.pk) + "attendees/").status_code == 200


def test_a_link_opens_only_its_own_attendee(office, party, api_client):
    _, tokens = party
    rsvp(api_client, tokens["Ana Lima"], answer="yes")
    assert Attendee.objects.get(person=office.bo).answer == "pending"
    assert Attendee.objects.get(person=office.cy).answer == "pending"


@pytest.mark.parametrize(
    "token", ["x" * 43, "too-short", "A" * 200, "bad token with spaces", "t0ken~with~tildes~that~is~long~enough~xx"]
)
def test_unknown_or_malformed_tokens_are_404(api_client, token, db):
    assert api_client.get(f"/rsvp/{token}").status_code == 404
    assert api_client.post(f"/rsvp/{token}", {"answer": "yes"}, format="json").status_code == 404


@pytest.mark.parametrize(
    "body", [{"answer": "perhaps"}, {}, {"answer": "yes", "note": 5}, {"answer": "yes", "note": "x" * 501}]
)
def test_a_bad_answer_is_400_and_writes_nothing(office, party, api_client, body):
    _, tokens = party
    response = (
        rsvp(api_client, tokens["Ana Lima"], **body)
        if body
        else api_client.post(f"/rsvp/{tokens['Ana Lima']}", {}, format="json")
    )
    assert response.status_code == 400
    assert Attendee.objects.get(person=office.ana).answer == "pending"


def test_a_replayed_link_on_a_cancelled_event_is_refused_and_writes_nothing(office, party, api_client):
    event, tokens = party
    assert rsvp(api_client, tokens["Ana Lima"], answer="yes").status_code == 200
    office.owner_client.delete(office.event_url(event.pk))
    before = Attendee.objects.filter(event=event).order_by("pk").values("answer", "note", "responded_at")
    before = list(before)

    replayed = rsvp(api_client, tokens["Ana Lima"], answer="no", note="changed my mind")
    shown = rsvp(api_client, tokens["Cy Diaz"])

    assert replayed.status_code == 410
    assert replayed.json()["code"] == "event_cancelled"
    assert shown.status_code == 410
    assert list(Attendee.objects.filter(event=event).order_by("pk").values("answer", "note", "responded_at")) == before


def test_a_finished_event_takes_no_more_answers(office, api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(
            office.events_url, gathering(office, starts_at="2030-07-03T18:00:00", attendees=[str(office.ana.pk)])
        )
    token = token_in(next(iter(invitations(response.json()["id"]).values())))
    Event.objects.filter(pk=response.json()["id"]).update(
        starts_at=datetime.now(UTC) - timedelta(days=2), ends_at=datetime.now(UTC) - timedelta(days=1)
    )
    refused = rsvp(api_client, token, answer="yes")
    assert refused.status_code == 410
    assert refused.json()["code"] == "event_over"


def test_rsvp_links_are_throttled_per_ip(office, party, api_client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"rsvp": "3/min"}}
    _, tokens = party
    statuses = [rsvp(api_client, tokens["Ana Lima"]).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


# --- change and cancel notices ----------------------------------------------------------------


def answer_all(api_client, tokens, answers: dict[str, str]) -> None:
    for name, answer in answers.items():
        assert rsvp(api_client, tokens[name], answer=answer).status_code == 200


def notices(event_id, kind: str) -> dict[str, Notification]:
    rows = Notification.objects.filter(idempotency_key__startswith=f"event:{event_id}:{kind}:").select_related("person")
    return {row.person.name: row for row in rows}


def test_moving_a_gathering_re_notifies_only_those_who_said_yes_or_maybe(
    office, party, api_client, django_capture_on_commit_callbacks
):
    event, tokens = party
    dan = PersonFactory(workspace=office.workspace, name="Dan Eriksen")
    Attendee.objects.create(event=event, person=dan)  # never invited, never answered
    answer_all(api_client, tokens, {"Ana Lima": "yes", "Bo Berg": "no", "Cy Diaz": "maybe"})

    with django_capture_on_commit_callbacks(execute=True):
        moved = office.owner_client.patch(
            office.event_url(event.pk), {"starts_at": "2030-07-04T19:00:00", "ends_at": "2030-07-04T23:00:00"}
        )
    assert moved.status_code == 200

    sent = notices(event.pk, "update")
    assert set(sent) == {"Ana Lima", "Cy Diaz"}
    event.refresh_from_db()
    ana = sent["Ana Lima"]
    assert (
        ana.idempotency_key
        == f"event:{event.pk}:update:{event.sequence}:{Attendee.objects.get(person=office.ana).pk}:email"
    )
    assert "Thursday 4 July 2030, 19:00 to 23:00" in ana.body
    assert "You answered yes" in ana.body
    assert ana.subject.startswith("Changed: Summer party")
    # The old link keeps working after the change.
    assert rsvp(api_client, tokens["Ana Lima"]).status_code == 200


def test_a_change_of_title_or_notes_notifies_nobody(office, party, api_client, django_capture_on_commit_callbacks):
    event, tokens = party
    answer_all(api_client, tokens, {"Ana Lima": "yes"})
    with django_capture_on_commit_callbacks(execute=True):
        office.owner_client.patch(office.event_url(event.pk), {"title": "Summer party!", "notes": "Dress code: none"})
    assert notices(event.pk, "update") == {}


def test_every_move_is_announced_once(office, party, api_client, django_capture_on_commit_callbacks):
    event, tokens = party
    answer_all(api_client, tokens, {"Ana Lima": "yes"})
    for place in ("Garden", "Cellar"):
        with django_capture_on_commit_callbacks(execute=True):
            office.owner_client.patch(office.event_url(event.pk), {"location": place})
    rows = Notification.objects.filter(idempotency_key__startswith=f"event:{event.pk}:update:")
    assert rows.count() == 2
    assert {("Garden" in row.body, "Cellar" in row.body) for row in rows} == {(True, False), (False, True)}


def test_cancelling_tells_everyone_invited_who_had_not_declined(
    office, party, api_client, django_capture_on_commit_callbacks
):
    event, tokens = party
    answer_all(api_client, tokens, {"Ana Lima": "yes", "Bo Berg": "no"})

    with django_capture_on_commit_callbacks(execute=True):
        office.owner_client.delete(office.event_url(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        office.owner_client.delete(office.event_url(event.pk))  # twice: still one notice each

    sent = notices(event.pk, "cancel")
    assert set(sent) == {"Ana Lima", "Cy Diaz"}
    assert sent["Ana Lima"].subject == "Cancelled: Summer party"


def test_an_event_that_becomes_a_gathering_invites_its_attendees(office, django_capture_on_commit_callbacks):
    event = EventFactory(workspace=office.workspace, kind=EventKind.CUSTOM)
    Attendee.objects.create(event=event, person=office.ana)
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.patch(office.event_url(event.pk), {"kind": "gathering"})
    assert response.status_code == 200
    assert set(invitations(event.pk)) == {"Ana Lima"}
