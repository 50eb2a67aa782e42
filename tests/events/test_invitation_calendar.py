"""Invitation, change and cancellation emails carry the event as an ``.ics`` attachment that a calendar
acts on by itself: ``METHOD:REQUEST`` with a stable UID, a higher SEQUENCE for each change, then
``METHOD:CANCEL``. The mails are delivered by the real pipeline and parsed with real MIME and
iCalendar parsers; the links reach the provider as data (List-Unsubscribe, RSVP buttons)."""

from email import message_from_bytes, policy

import icalendar
import pytest
from django.core import mail

from events.models import Attendee, Event
from notifications import services as notification_services
from notifications.models import Notification, NotificationStatus
from tests.events.test_rsvp import answer_all, gathering, invitations, notices, token_in
from tests.factories import PersonFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory
from workspaces.preferences import preferences_url

pytestmark = pytest.mark.django_db


def deliver(row: Notification):
    """Delivers ``row`` through the delivery engine; the email as a mail client reads it."""
    mail.outbox.clear()
    assert notification_services.notification_deliver(notification_id=row.pk) == "sent"
    (message,) = mail.outbox
    return message_from_bytes(message.message().as_bytes(), policy=policy.default)


def calendar_of(parsed) -> tuple[str, icalendar.Calendar]:
    """The ``method`` parameter of the ``text/calendar`` part and the calendar it holds."""
    (part,) = [part for part in parsed.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert part.get_filename() == "invite.ics"
    return part.get_param("method"), icalendar.Calendar.from_ical(part.get_content())


def vevent(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


@pytest.fixture
def party(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(office.events_url, gathering(office))
    assert response.status_code == 201, response.content
    return Event.objects.get(pk=response.json()["id"])


def test_invite_then_update_then_cancel_reach_the_calendar_with_one_uid_and_rising_sequence(
    office, party, api_client, django_capture_on_commit_callbacks
):
    """GIVEN an invitation emailed to Ana, WHEN the gathering moves and then is cancelled, THEN each
    email carries the same UID: REQUEST at SEQUENCE 0, REQUEST at a higher SEQUENCE with the new
    time, and CANCEL at a higher one still."""
    event = party
    invitation = invitations(event.pk)["Ana Lima"]
    method, calendar = calendar_of(deliver(invitation))
    assert method == "REQUEST"
    assert calendar["METHOD"] == "REQUEST"
    first = vevent(calendar)
    uid = str(first["UID"])
    assert uid == f"{event.pk}@birthdaybuddy"
    assert first["SEQUENCE"] == 0
    assert first["SUMMARY"] == "Summer party"
    assert first.decoded("DTSTART").isoformat() == "2030-07-03T16:00:00+00:00"  # 18:00 in Berlin
    assert str(first["ATTENDEE"]) == "mailto:ana@example.com"
    assert str(first["ORGANIZER"]).startswith("mailto:")

    answer_all(api_client, {"Ana Lima": token_in(invitation)}, {"Ana Lima": "yes"})
    with django_capture_on_commit_callbacks(execute=True):
        moved = office.owner_client.patch(
            office.event_url(event.pk), {"starts_at": "2030-07-04T19:00:00", "ends_at": "2030-07-04T23:00:00"}
        )
    assert moved.status_code == 200
    method, calendar = calendar_of(deliver(notices(event.pk, "update")["Ana Lima"]))
    update = vevent(calendar)
    assert (method, calendar["METHOD"], str(update["UID"])) == ("REQUEST", "REQUEST", uid)
    assert update["SEQUENCE"] > first["SEQUENCE"]
    assert update.decoded("DTSTART").isoformat() == "2030-07-04T17:00:00+00:00"

    with django_capture_on_commit_callbacks(execute=True):
        assert office.owner_client.delete(office.event_url(event.pk)).status_code in (200, 204)
    method, calendar = calendar_of(deliver(notices(event.pk, "cancel")["Ana Lima"]))
    cancel = vevent(calendar)
    assert (method, calendar["METHOD"], str(cancel["UID"])) == ("CANCEL", "CANCEL", uid)
    assert cancel["SEQUENCE"] > update["SEQUENCE"]
    assert cancel["STATUS"] == "CANCELLED"


def test_an_invitation_email_gets_buttons_and_list_unsubscribe_from_its_links(office, party):
    row = invitations(party.pk)["Ana Lima"]
    assert row.rsvp_url == f"https://app.example.com/rsvp/{token_in(row)}"
    assert row.preferences_url == preferences_url(office.ana)

    parsed = deliver(row)
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(("plain",)).get_content()
    assert row.rsvp_url in body
    html = parsed.get_body(("html",)).get_content()
    for answer in ("yes", "maybe", "no"):
        assert f'href="{row.rsvp_url}?answer={answer}"' in html
    assert str(parsed["List-Unsubscribe"]).strip() == f"<{row.preferences_url}/unsubscribe?channel=email>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_resent_invitation_carries_its_calendar_and_links_again(office, party):
    row = invitations(party.pk)["Ana Lima"]
    Notification.objects.filter(pk=row.pk).update(status=NotificationStatus.FAILED)
    row.refresh_from_db()

    copy = notification_services.notification_resend(notification=row)
    method, calendar = calendar_of(deliver(copy))
    assert method == "REQUEST"
    assert str(vevent(calendar)["UID"]) == f"{party.pk}@birthdaybuddy"
    assert copy.rsvp_url == row.rsvp_url


def test_only_email_carries_a_calendar(office, django_capture_on_commit_callbacks):
    ChannelConfigFactory(
        workspace=office.workspace,
        kind="whatsapp",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
    )
    office.ana.preferred_channels = ["whatsapp"]
    office.ana.phone = "+14155550122"
    office.ana.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(office.events_url, gathering(office))
    rows = invitations(response.json()["id"])

    assert rows["Ana Lima"].channel == "whatsapp"
    assert rows["Ana Lima"].calendar == ""
    assert rows["Ana Lima"].rsvp_url in rows["Ana Lima"].body
    assert rows["Bo Berg"].channel == "email"
    assert rows["Bo Berg"].calendar.startswith("BEGIN:VCALENDAR")


def test_a_person_added_later_gets_a_request_at_the_current_sequence(office, party, django_capture_on_commit_callbacks):
    event = party
    with django_capture_on_commit_callbacks(execute=True):
        office.owner_client.patch(office.event_url(event.pk), {"location": "Garden"})
    event.refresh_from_db()
    assert event.sequence > 0
    dan = PersonFactory(workspace=office.workspace, name="Dan Eriksen", email="dan@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.patch(
            office.event_url(event.pk),
            {"attendees": [str(office.ana.pk), str(office.bo.pk), str(office.cy.pk), str(dan.pk)]},
        )
    assert response.status_code == 200, response.content
    assert Attendee.objects.filter(event=event, person=dan).exists()

    method, calendar = calendar_of(deliver(invitations(event.pk)["Dan Eriksen"]))
    assert method == "REQUEST"
    assert vevent(calendar)["SEQUENCE"] == event.sequence
    assert str(vevent(calendar)["LOCATION"]) == "Garden"


def test_invitations_speak_the_workspaces_locale_unless_the_person_chose_a_language(
    office, django_capture_on_commit_callbacks
):
    office.workspace.locale = "de-DE"
    office.workspace.save()
    office.bo.language = "en"
    office.bo.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(office.events_url, gathering(office))
    rows = invitations(response.json()["id"])

    ana, bo = rows["Ana Lima"], rows["Bo Berg"]
    assert ana.subject == "Einladung: Summer party (Mittwoch, 3. Juli 2030, 18:00 bis 23:00 (Europe/Berlin))"
    assert "Hallo Ana Lima," in ana.body
    assert "Lima & Co lädt Sie zu Summer party ein." in ana.body
    assert "Wann: Mittwoch, 3. Juli 2030, 18:00 bis 23:00 (Europe/Berlin)" in ana.body
    assert "Wo: Rooftop" in ana.body
    assert "Ihre Nachrichteneinstellungen oder abbestellen:" in ana.body
    assert bo.subject.startswith("You're invited: Summer party (Wednesday 3 July 2030, 18:00 to 23:00")
    assert "Hello Bo Berg," in bo.body
