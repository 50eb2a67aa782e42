"""Sending one attendee's invitation again: a new message with a new RSVP link, audited."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from audit.queries import audit_entries
from events.models import Attendee, Event
from notifications.models import Notification
from tests.audit_checks import assert_shown_to_workspace_admins_only, latest_operation
from tests.conftest import client_for
from tests.events.factories import EventFactory
from tests.factories import MembershipFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https://app\.example\.com/rsvp/([A-Za-z0-9_-]{43})")


def token_in(notification: Notification) -> str:
    match = LINK_RE.search(notification.body)
    assert match, notification.body
    return match.group(1)


def resend_url(office, event_id, person_id) -> str:
    return f"{office.event_url(event_id)}attendees/{person_id}/resend-invitation"


def invitations_of(event, person) -> list[Notification]:
    return list(
        Notification.objects.filter(person=person, idempotency_key__startswith=f"event:{event.pk}:invite:").order_by(
            "created_at", "idempotency_key"
        )
    )


@pytest.fixture
def party(office, django_capture_on_commit_callbacks):
    """A gathering of Ana and Bo, created through the API with their invitations written."""
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(
            office.events_url,
            {
                "title": "Summer party",
                "kind": "gathering",
                "starts_at": "2030-07-03T18:00:00",
                "ends_at": "2030-07-03T23:00:00",
                "attendees": [str(office.ana.pk), str(office.bo.pk)],
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    return Event.objects.get(pk=response.json()["id"])


def snapshot(event) -> tuple:
    """What a refused re-send must leave unchanged."""
    return (
        Notification.objects.count(),
        audit_entries().with_operation("event.resend_invitation").count(),
        list(Attendee.objects.filter(event=event).order_by("pk").values_list("rsvp_token_hash", "invited_at")),
    )


def test_resend_writes_a_new_invitation_with_a_new_link_and_keeps_the_answer(office, party, api_client):
    [first] = invitations_of(party, office.ana)
    old_token = token_in(first)
    assert api_client.post(f"/rsvp/{old_token}", {"answer": "yes"}, format="json").status_code == 200

    response = office.owner_client.post(resend_url(office, party.pk, office.ana.pk))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["channel"], body["recipient"]) == ("email", "ana@example.com")
    assert body["attendee"]["person"] == str(office.ana.pk)
    assert body["attendee"]["answer"] == "yes"
    earlier, again = invitations_of(party, office.ana)
    assert earlier.pk == first.pk  # the first message stays in the history
    attendee = Attendee.objects.get(event=party, person=office.ana)
    assert str(again.pk) == body["notification"]
    assert again.idempotency_key == f"event:{party.pk}:invite:{attendee.pk}:email:resend:1"
    assert again.status == "pending"
    assert "Summer party" in again.subject
    new_token = token_in(again)
    assert new_token != old_token
    assert attendee.rsvp_token_hash == hashlib.sha256(new_token.encode()).hexdigest()
    assert attendee.answer == "yes"
    # The old link stops working; the new one answers.
    assert api_client.get(f"/rsvp/{old_token}").status_code == 404
    assert api_client.get(f"/rsvp/{new_token}").json()["answer"] == "yes"
    # Bo is untouched.
    assert len(invitations_of(party, office.bo)) == 1


def test_each_resend_is_one_more_message_and_uses_the_current_address(office, party):
    office.ana.email = "ana.lima@example.org"
    office.ana.save()

    assert office.owner_client.post(resend_url(office, party.pk, office.ana.pk)).status_code == 201
    second = office.admin_client.post(resend_url(office, party.pk, office.ana.pk))

    assert second.status_code == 201
    assert second.json()["recipient"] == "ana.lima@example.org"
    keys = [row.idempotency_key.rsplit(":", 2)[-2:] for row in invitations_of(party, office.ana)]
    assert keys[1:] == [["resend", "1"], ["resend", "2"]]


def test_resend_is_audited_as_a_manual_send(office, party):
    response = office.admin_client.post(resend_url(office, party.pk, office.bo.pk))
    assert response.status_code == 201

    entry = latest_operation(office.workspace, "event.resend_invitation")
    attendee = Attendee.objects.get(event=party, person=office.bo)
    assert entry.actor_id == office.admin.pk
    assert (entry.content_type.model, entry.object_pk) == ("attendee", str(attendee.pk))
    assert entry.additional_data["details"] == {
        "event": str(party.pk),
        "person": str(office.bo.pk),
        "notification": response.json()["notification"],
        "channel": "email",
        "recipient": "bo@example.com",
    }
    row = assert_shown_to_workspace_admins_only(entry, office.workspace)
    assert row["action"] == "manual"
    assert row["actor"]["email"] == office.admin.email


def test_the_host_may_resend_other_members_may_not(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        created = office.owner_client.post(
            office.events_url,
            {
                "title": "Team lunch",
                "kind": "gathering",
                "starts_at": "2030-05-01T12:00:00",
                "host": str(office.member.pk),
                "attendees": [str(office.cy.pk)],
            },
            format="json",
        )
    event = Event.objects.get(pk=created.json()["id"])
    not_the_host = MembershipFactory(workspace=office.workspace, role=Role.MEMBER).user
    before = snapshot(event)

    refused = client_for(not_the_host).post(resend_url(office, event.pk, office.cy.pk))

    assert refused.status_code == 403
    assert snapshot(event) == before

    assert office.member_client.post(resend_url(office, event.pk, office.cy.pk)).status_code == 201


def test_a_person_who_is_not_an_attendee_is_404_and_nothing_is_written(office, party, elsewhere):
    _, stranger = elsewhere
    before = snapshot(party)

    for person_id in (office.cy.pk, stranger.pk):
        response = office.owner_client.post(resend_url(office, party.pk, person_id))
        assert response.status_code == 404
        assert response.json()["code"] == "not_an_attendee"
    assert office.owner_client.post(resend_url(office, party.pk, "not-a-uuid")).status_code == 404
    assert snapshot(party) == before


def test_a_cancelled_or_finished_event_is_409(office, party):
    assert office.owner_client.delete(office.event_url(party.pk)).status_code == 204
    before = snapshot(party)
    cancelled = office.owner_client.post(resend_url(office, party.pk, office.ana.pk))
    assert cancelled.status_code == 409
    assert cancelled.json()["code"] == "event_cancelled"
    assert snapshot(party) == before

    past = EventFactory(
        workspace=office.workspace,
        kind="gathering",
        starts_at=datetime.now(UTC) - timedelta(days=2),
        ends_at=datetime.now(UTC) - timedelta(days=1),
    )
    Attendee.objects.create(event=past, person=office.ana)
    before = snapshot(past)
    over = office.owner_client.post(resend_url(office, past.pk, office.ana.pk))
    assert over.status_code == 409
    assert over.json()["code"] == "event_over"
    assert snapshot(past) == before


def test_an_event_that_is_not_a_gathering_is_400(office):
    appointment = EventFactory(workspace=office.workspace, kind="appointment", host=office.owner)
    Attendee.objects.create(event=appointment, person=office.ana)
    before = snapshot(appointment)

    response = office.owner_client.post(resend_url(office, appointment.pk, office.ana.pk))

    assert response.status_code == 400
    assert response.json()["code"] == "not_a_gathering"
    assert snapshot(appointment) == before


def test_an_attendee_no_channel_reaches_is_409_and_keeps_their_link(office, party):
    office.bo.email = ""
    office.bo.save()
    before = snapshot(party)

    response = office.owner_client.post(resend_url(office, party.pk, office.bo.pk))

    assert response.status_code == 409
    assert response.json()["code"] == "attendee_unreachable"
    assert "Bo Berg" in response.json()["detail"]
    assert snapshot(party) == before


def test_the_route_is_documented(office):
    schema = office.owner_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    path = "/api/v1/workspaces/{workspace_id}/events/{id}/attendees/{person_id}/resend-invitation"
    operation = schema["paths"][path]["post"]
    assert "**Permissions:**" in operation["description"]
    assert {"201", "400", "403", "404", "409"} <= set(operation["responses"])
    assert {parameter["name"] for parameter in operation["parameters"]} == {"workspace_id", "id", "person_id"}
