"""The staff admin for events, attendees and calendar feeds: read-only pages, cancel and revoke actions."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from events import services
from events.models import Attendee, CalendarFeed, Event, EventStatus
from tests.events.factories import CalendarFeedFactory, EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_pages_load_and_never_show_token_hashes(admin_client, office):
    event = EventFactory(workspace=office.workspace, kind="gathering")
    attendee = Attendee.objects.create(event=event, person=office.ana, rsvp_token_hash="f" * 64)
    feed = CalendarFeedFactory(workspace=office.workspace)
    pages = [
        reverse("admin:events_event_changelist"),
        reverse("admin:events_event_change", args=[event.pk]),
        reverse("admin:events_attendee_changelist"),
        reverse("admin:events_attendee_change", args=[attendee.pk]),
        reverse("admin:events_calendarfeed_changelist"),
        reverse("admin:events_calendarfeed_change", args=[feed.pk]),
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "f" * 64 not in body
        assert feed.token_hash not in body
    assert admin_client.get(reverse("admin:events_event_changelist") + "?q=" + event.title).status_code == 200


def test_cancel_action_goes_through_the_service(admin_client, office, django_capture_on_commit_callbacks):
    event = EventFactory(workspace=office.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:events_event_changelist"),
            {"action": "cancel_events", "_selected_action": [str(event.pk)]},
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.status, event.sequence) == (EventStatus.CANCELLED, 1)


def test_revoke_action(admin_client, office):
    feed, _ = services.calendar_feed_create(workspace=office.workspace, scope="workspace", actor=office.owner)
    response = admin_client.post(
        reverse("admin:events_calendarfeed_changelist"),
        {"action": "revoke_feeds", "_selected_action": [str(feed.pk)]},
    )
    assert response.status_code == 302
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is not None


def test_events_are_not_edited_or_added_in_the_admin(admin_client, office):
    event = EventFactory(workspace=office.workspace, title="Keep", starts_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert admin_client.get(reverse("admin:events_event_add")).status_code == 403
    admin_client.post(reverse("admin:events_event_change", args=[event.pk]), {"title": "Changed"})
    assert Event.objects.get(pk=event.pk).title == "Keep"
