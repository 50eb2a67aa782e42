"""The staff admin for events, attendees and calendar feeds: read-only pages, cancel and revoke actions."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from events import feeds, polls, services
from events.models import Attendee, CalendarFeed, Event, EventStatus
from notifications.models import Notification
from tests.events.factories import CalendarFeedFactory, EventFactory
from tests.events.test_date_poll import OPTIONS, poll_url
from tests.events.test_guests import create

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


def test_cancel_action_goes_through_the_service_and_sends_the_notices(
    admin_client, office, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the invitation goes out first
        event = services.event_create(
            workspace=office.workspace,
            created_by=office.owner,
            data={
                "title": "Summer party",
                "kind": "gathering",
                "starts_at": datetime(2030, 7, 1, 16, tzinfo=UTC),
                "attendees": [office.ana.pk],
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:events_event_changelist"),
            {"action": "cancel_events", "_selected_action": [str(event.pk)]},
        )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == EventStatus.CANCELLED
    notices = Notification.objects.filter(idempotency_key__startswith=f"event:{event.pk}:cancel:")
    assert [n.recipient for n in notices] == ["ana@example.com"]


def test_events_are_added_and_edited_through_the_services(admin_client, office, elsewhere):
    add = reverse("admin:events_event_add")
    choose = admin_client.get(add).content.decode()
    assert "Whose event" in choose
    assert "birthday digest" not in choose  # the reminders' own hint stays on their page
    url = f"{add}?workspace={office.workspace.pk}"
    assert "Starts (Europe/Berlin)" in admin_client.get(url).content.decode()
    _, stranger = elsewhere

    refused = admin_client.post(
        url, {"title": "Filing", "kind": "deadline", "starts_at": "2030-03-01T10:00", "attendees": [str(stranger.pk)]}
    )
    assert refused.status_code == 200
    assert "attendees" in refused.context["adminform"].form.errors
    bad_rule = admin_client.post(
        url, {"title": "Filing", "kind": "deadline", "starts_at": "2030-03-01T10:00", "rrule": "every monday"}
    )
    assert "rrule" in bad_rule.context["adminform"].form.errors
    assert not Event.objects.exists()

    created = admin_client.post(
        url, {"title": "Filing", "kind": "deadline", "starts_at": "2030-03-01T10:00", "attendees": [str(office.ana.pk)]}
    )
    assert created.status_code == 302, created.context["adminform"].form.non_field_errors()
    event = Event.objects.get()
    assert event.starts_at == datetime(2030, 3, 1, 9, tzinfo=UTC)  # 10:00 in Berlin
    assert list(event.attendees.all()) == [office.ana]

    change = reverse("admin:events_event_change", args=[event.pk])
    moved = admin_client.post(
        change,
        {
            "title": "Filing",
            "kind": "deadline",
            "starts_at": "2030-03-02T10:00",
            "attendees": [str(office.ana.pk)],
            "attendances-TOTAL_FORMS": "1",
            "attendances-INITIAL_FORMS": "1",
            "attendances-0-id": str(event.attendances.get().pk),
            "attendances-0-event": str(event.pk),
        },
    )
    assert moved.status_code == 302
    event.refresh_from_db()
    assert (event.starts_at, event.sequence) == (datetime(2030, 3, 2, 9, tzinfo=UTC), 1)


def test_only_superusers_may_delete_and_they_are_warned(client, office):
    from tests.factories import UserFactory

    event = EventFactory(workspace=office.workspace)
    url = reverse("admin:events_event_delete", args=[event.pk])
    root = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(root)
    assert "nobody is told" in client.get(url).content.decode()

    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="events"))
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:events_event_change", args=[event.pk])).status_code == 200


def test_revoke_action(admin_client, office):
    feed, _ = feeds.calendar_feed_create(workspace=office.workspace, scope="workspace", actor=office.owner)
    response = admin_client.post(
        reverse("admin:events_calendarfeed_changelist"),
        {"action": "revoke_feeds", "_selected_action": [str(feed.pk)]},
    )
    assert response.status_code == 302
    assert CalendarFeed.objects.get(pk=feed.pk).revoked_at is not None


def test_staff_see_the_guest_settings_co_hosts_and_each_guests_place(admin_client, office):
    event = services.event_create(
        workspace=office.workspace,
        created_by=office.owner,
        data={
            "title": "Garden party",
            "kind": "gathering",
            "starts_at": datetime(2030, 7, 3, 18, 0),
            "attendees": [office.ana.pk],
            "capacity": 37,
            "cohosts": [office.member.pk],
        },
    )
    Attendee.objects.filter(event=event).update(answer="yes", seat="going", plus_ones=0)

    html = admin_client.get(reverse("admin:events_event_change", args=[event.pk])).content.decode()

    assert "Guests" in html
    assert "37" in html
    assert office.member.email in html
    assert "Going" in html


def test_staff_see_a_gatherings_poll_its_options_and_the_votes(
    admin_client, office, django_capture_on_commit_callbacks
):
    event, _ = create(office, django_capture_on_commit_callbacks)
    opened = office.owner_client.post(poll_url(office, event), {"options": OPTIONS}, format="json")
    ids = [option["id"] for option in opened.json()["options"]]
    attendee = event.attendances.get(person=office.bo)
    polls.poll_vote(event=event, votes={ids[0]: "yes", ids[2]: "ifneedbe"}, time_zone="Asia/Tokyo", attendee=attendee)

    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Date poll" in html
    assert "2030-07-03 18:00 Europe/Berlin" in html
    assert "2030-07-12 (all day)" in html
    assert "Bo Berg (guest, Asia/Tokyo)" in html
    assert (
        "<td>1 yes · 0 if need be · 0 no</td><td>0 yes · 0 if need be · 0 no</td><td>0 yes · 1 if need be · 0 no</td>"
        in html
    )
    assert "<td>Yes</td><td>—</td><td>If need be</td>" in html


def test_an_event_without_a_poll_shows_no_poll_section(admin_client, office, django_capture_on_commit_callbacks):
    event, _ = create(office, django_capture_on_commit_callbacks)
    page = admin_client.get(reverse("admin:events_event_change", args=[event.pk]))
    assert page.status_code == 200
    assert "Date poll" not in page.content.decode()
