"""Appointment confirmations: a one-time reminder may carry the client's appointment. Its recipients get a
confirmation with an ``.ics`` (METHOD:REQUEST, a stable UID) when it is set, an update with a higher SEQUENCE
when it moves, and METHOD:CANCEL when it is dropped or the reminder deleted — written through the outbox in the
reminder's own transaction, delivered by the real pipeline and read with real MIME and iCalendar parsers."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.admin import notification_purpose
from notifications.models import Notification, NotificationStatus
from reminders.models import Reminder
from scheduling.tick import tick
from tests.conftest import client_for
from tests.events.test_invitation_calendar import calendar_of, deliver, vevent
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1
START_LOCAL = f"{NEXT_YEAR}-03-10T10:30"  # Berlin, winter time: 09:30 UTC
START_UTC = datetime(NEXT_YEAR, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture
def firm(settings):
    settings.PUBLIC_BASE_URL = "https://buddy.example.test"
    workspace = WorkspaceFactory(name="Tax & Co", timezone="Europe/Berlin", locale="en")
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    carla = PersonFactory(workspace=workspace, name="Carla Client", email="carla@example.com", phone="")
    dan = PersonFactory(workspace=workspace, name="Dan Client", email="dan@example.com", phone="", language="de")

    class Firm:
        pass

    firm = Firm()
    firm.workspace, firm.client, firm.carla, firm.dan = workspace, client_for(owner), carla, dan
    firm.url = f"/api/v1/workspaces/{workspace.pk}/reminders/"
    return firm


def _create(firm, **extra):
    body = {
        "kind": "one_time",
        "name": "Annual review",
        "at": f"{NEXT_YEAR}-03-09T09:00",
        "recipients": [str(firm.carla.pk), str(firm.dan.pk)],
        "channels": ["email"],
        "template": "Tomorrow: your annual review.",
        "appointment": {"starts_at": START_LOCAL, "duration_minutes": 45, "location": "Main St 1, Berlin"},
        **extra,
    }
    return firm.client.post(firm.url, body, format="json")


def _messages(reminder_id, part: str) -> dict[str, Notification]:
    rows = Notification.objects.filter(idempotency_key__startswith=f"appointment:{reminder_id}:{part}:")
    return {row.person.name: row for row in rows.select_related("person")}


@pytest.fixture
def booked(firm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(firm)
    assert response.status_code == 201, response.content
    return response.json()


def test_creating_it_confirms_the_appointment_with_an_ics_request(firm, booked):
    assert booked["appointment"] == {
        "starts_at": f"{NEXT_YEAR}-03-10T09:30:00Z",
        "duration_minutes": 45,
        "location": "Main St 1, Berlin",
        "sequence": 0,
    }
    confirmations = _messages(booked["id"], "0")
    assert sorted(confirmations) == ["Carla Client", "Dan Client"]
    carla = confirmations["Carla Client"]
    assert carla.channel == "email"
    assert carla.recipient == "carla@example.com"
    assert carla.subject.startswith("Confirmed: Annual review (")
    assert "10:30 to 11:15 (Europe/Berlin)" in carla.body
    assert "Where: Main St 1, Berlin" in carla.body
    assert carla.preferences_url
    assert carla.preferences_url in carla.body

    parsed = deliver(carla)
    method, calendar = calendar_of(parsed)
    assert (method, calendar["METHOD"]) == ("REQUEST", "REQUEST")
    entry = vevent(calendar)
    assert str(entry["UID"]) == f"appointment-{booked['id']}@birthdaybuddy"
    assert entry["SEQUENCE"] == 0
    assert entry.decoded("DTSTART") == START_UTC
    assert entry.decoded("DTEND") == START_UTC + timedelta(minutes=45)
    assert str(entry["LOCATION"]) == "Main St 1, Berlin"
    assert str(entry["ATTENDEE"]) == "mailto:carla@example.com"
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert Notification.objects.get(pk=carla.pk).status == NotificationStatus.SENT


def test_the_confirmation_speaks_the_persons_language(firm, booked):
    dan = _messages(booked["id"], "0")["Dan Client"]
    assert dan.subject.startswith("Bestätigt: Annual review (")
    assert "bestätigt Ihren Termin" in dan.body


def test_moving_it_sends_an_update_with_the_same_uid_and_a_higher_sequence(
    firm, booked, django_capture_on_commit_callbacks
):
    later = f"{NEXT_YEAR}-03-11T14:00"
    with django_capture_on_commit_callbacks(execute=True):
        response = firm.client.patch(f"{firm.url}{booked['id']}/", {"appointment": {"starts_at": later}}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["appointment"]["sequence"] == 1
    assert response.json()["appointment"]["duration_minutes"] == 45, "parts not given stay"
    assert response.json()["appointment"]["location"] == "Main St 1, Berlin"
    updates = _messages(booked["id"], "update:1")
    assert sorted(updates) == ["Carla Client", "Dan Client"]
    assert updates["Carla Client"].subject.startswith("Moved: Annual review — now ")
    method, calendar = calendar_of(deliver(updates["Carla Client"]))
    entry = vevent(calendar)
    assert method == "REQUEST"
    assert str(entry["UID"]) == f"appointment-{booked['id']}@birthdaybuddy"
    assert entry["SEQUENCE"] == 1
    assert entry.decoded("DTSTART") == datetime(NEXT_YEAR, 3, 11, 13, 0, tzinfo=UTC)


def test_a_change_the_appointment_does_not_show_sends_nothing(firm, booked):
    before = Notification.objects.count()
    response = firm.client.patch(f"{firm.url}{booked['id']}/", {"template": "New text."}, format="json")

    assert response.status_code == 200
    assert response.json()["appointment"]["sequence"] == 0
    assert Notification.objects.count() == before


def test_deleting_the_reminder_cancels_the_appointment_in_the_calendar(
    firm, booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = firm.client.delete(f"{firm.url}{booked['id']}/")

    assert response.status_code == 204
    assert not Reminder.objects.filter(pk=booked["id"]).exists()
    cancels = _messages(booked["id"], "cancel")
    assert sorted(cancels) == ["Carla Client", "Dan Client"]
    assert cancels["Carla Client"].subject.startswith("Cancelled: Annual review (")
    method, calendar = calendar_of(deliver(cancels["Carla Client"]))
    entry = vevent(calendar)
    assert (method, calendar["METHOD"], str(entry["STATUS"])) == ("CANCEL", "CANCEL", "CANCELLED")
    assert str(entry["UID"]) == f"appointment-{booked['id']}@birthdaybuddy"
    assert entry["SEQUENCE"] == 1
    assert entry.decoded("DTSTART") == START_UTC


def test_removing_the_appointment_cancels_it_and_keeps_the_reminder(firm, booked):
    response = firm.client.patch(f"{firm.url}{booked['id']}/", {"appointment": None}, format="json")

    assert response.status_code == 200
    assert response.json()["appointment"] is None
    cancels = _messages(booked["id"], "cancel")
    assert sorted(cancels) == ["Carla Client", "Dan Client"]
    _, calendar = calendar_of(deliver(cancels["Carla Client"]))
    assert vevent(calendar).decoded("DTSTART") == START_UTC, "the cancellation names the appointment as it was"
    assert Reminder.objects.get(pk=booked["id"]).next_run_at is not None


def test_a_person_taken_off_gets_a_cancellation_and_one_added_a_confirmation(firm, booked):
    eve = PersonFactory(workspace=firm.workspace, name="Eve Client", email="eve@example.com")
    response = firm.client.patch(
        f"{firm.url}{booked['id']}/", {"recipients": [str(firm.carla.pk), str(eve.pk)]}, format="json"
    )

    assert response.status_code == 200
    assert sorted(_messages(booked["id"], "cancel")) == ["Dan Client"]
    assert sorted(_messages(booked["id"], "1")) == ["Eve Client"]
    assert _messages(booked["id"], "1")["Eve Client"].subject.startswith("Confirmed:")


def test_an_appointment_added_later_is_confirmed_and_no_one_taken_off_hears_of_it(firm):
    response = _create(firm, appointment=None)
    assert response.status_code == 201, response.content
    reminder_id = response.json()["id"]
    assert not Notification.objects.filter(idempotency_key__startswith=f"appointment:{reminder_id}:").exists()

    response = firm.client.patch(
        f"{firm.url}{reminder_id}/",
        {"recipients": [str(firm.carla.pk)], "appointment": {"starts_at": START_LOCAL}},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["appointment"]["duration_minutes"] == 60
    assert sorted(_messages(reminder_id, "1")) == ["Carla Client"]
    assert not _messages(reminder_id, "cancel"), "Dan never had this appointment"


def test_a_person_no_channel_reaches_is_recorded_as_skipped(firm):
    firm.dan.email = ""
    firm.dan.save()
    response = _create(firm)

    assert response.status_code == 201, response.content
    dan = _messages(response.json()["id"], "0")["Dan Client"]
    assert dan.status == NotificationStatus.SKIPPED
    assert dan.last_error.startswith("unreachable")


def test_an_sms_confirmation_has_no_calendar_but_the_time(firm):
    ChannelConfigFactory(
        workspace=firm.workspace,
        kind="sms",
        webhook_url="",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+15005550006",
    )
    firm.carla.phone = "+4915112345678"
    firm.carla.save()
    response = _create(firm, channels=["sms"], recipients=[str(firm.carla.pk)])

    assert response.status_code == 201, response.content
    sms = _messages(response.json()["id"], "0")["Carla Client"]
    assert sms.channel == "sms"
    assert sms.calendar == ""
    assert "Tax & Co: your appointment Annual review is confirmed for " in sms.body
    assert "10:30 to 11:15 (Europe/Berlin), Main St 1, Berlin." in sms.body


@pytest.mark.parametrize(
    ("extra", "field", "code"),
    [
        ({"kind": "recurring", "rrule": "FREQ=WEEKLY"}, "appointment", "invalid"),
        ({"audience": "members", "recipients": []}, "appointment", "invalid"),
        ({"appointment": {"starts_at": "2001-01-01T10:00"}}, "appointment", "in_the_past"),
        ({"appointment": {"starts_at": START_LOCAL, "duration_minutes": 0}}, "appointment", None),
        ({"appointment": {"location": "Nowhere"}}, "appointment", "required"),
        ({"appointment": {"starts_at": "soon"}}, "appointment", None),
        ({"at": f"{NEXT_YEAR}-03-10T12:00"}, "at", "after_appointment"),
    ],
)
def test_bad_appointments_are_refused_naming_the_field_and_nothing_is_written(firm, extra, field, code):
    response = _create(firm, **extra)

    assert response.status_code == 400, response.content
    body = response.json()
    assert field in str(body), body
    if code:
        assert code in str(body), body
    assert not Reminder.objects.filter(workspace=firm.workspace, kind__in=["one_time", "recurring"]).exists()
    assert not Notification.objects.filter(idempotency_key__startswith="appointment:").exists()


def test_a_refused_update_writes_nothing(firm, booked):
    response = firm.client.patch(
        f"{firm.url}{booked['id']}/", {"appointment": {"starts_at": "2001-01-01T10:00"}}, format="json"
    )

    assert response.status_code == 400
    assert Reminder.objects.get(pk=booked["id"]).appointment_sequence == 0
    assert not _messages(booked["id"], "update:1")


ADMIN_ADD = "/admin/reminders/reminder/add/"


@pytest.fixture
def staff_browser(staff_user):
    from django.test import Client

    client = Client()
    client.force_login(staff_user)
    return client


def test_the_admins_one_time_form_books_moves_and_refuses_like_the_api(firm, staff_browser):
    form = {
        "name": "Annual review",
        "send_at": f"{NEXT_YEAR}-03-09T09:00",
        "appointment_at": START_LOCAL,
        "appointment_minutes": "45",
        "appointment_location": "Main St 1, Berlin",
        "recipients": [str(firm.carla.pk)],
        "channels": ["email"],
        "message": "Tomorrow: your annual review.",
        "active": "on",
    }
    page = staff_browser.get(ADMIN_ADD, {"workspace": str(firm.workspace.pk), "kind": "one_time"})
    assert "Appointment starts (Europe/Berlin)" in page.content.decode()

    late = staff_browser.post(
        f"{ADMIN_ADD}?workspace={firm.workspace.pk}&kind=one_time", {**form, "send_at": f"{NEXT_YEAR}-03-10T12:00"}
    )
    assert late.status_code == 200
    assert "after the appointment has started" in late.content.decode()
    assert not Reminder.objects.filter(workspace=firm.workspace, kind="one_time").exists()

    created = staff_browser.post(f"{ADMIN_ADD}?workspace={firm.workspace.pk}&kind=one_time", form)
    assert created.status_code == 302
    reminder = Reminder.objects.get(workspace=firm.workspace, kind="one_time")
    assert reminder.appointment_starts_at == START_UTC, "entered in Berlin time, not UTC"
    assert sorted(_messages(reminder.pk, "0")) == ["Carla Client"]

    change = f"/admin/reminders/reminder/{reminder.pk}/change/"
    form["audience"] = "people"  # as the change page shows it
    assert f'value="{START_LOCAL}"' in staff_browser.get(change).content.decode()
    moved = staff_browser.post(change, {**form, "appointment_at": f"{NEXT_YEAR}-03-10T11:00"})
    assert moved.status_code == 302, moved.context["adminform"].form.errors
    update = _messages(reminder.pk, "update:1")["Carla Client"]
    _, calendar = calendar_of(deliver(update))
    assert vevent(calendar).decoded("DTSTART") == START_UTC + timedelta(minutes=30)

    cleared = staff_browser.post(change, {**form, "appointment_at": ""})
    assert cleared.status_code == 302
    assert sorted(_messages(reminder.pk, "cancel")) == ["Carla Client"]


def test_the_notification_list_names_confirmations_updates_and_cancellations(
    firm, booked, client, staff_user, django_capture_on_commit_callbacks
):
    url = f"{firm.url}{booked['id']}/"
    eve = PersonFactory(workspace=firm.workspace, name="Eve Client", email="eve@example.com", phone="")
    with django_capture_on_commit_callbacks(execute=True):
        moved = firm.client.patch(url, {"appointment": {"starts_at": f"{NEXT_YEAR}-03-11T14:00"}}, format="json")
        added = firm.client.patch(
            url, {"recipients": [str(firm.carla.pk), str(firm.dan.pk), str(eve.pk)]}, format="json"
        )
        dropped = firm.client.patch(url, {"appointment": None}, format="json")
    assert (moved.status_code, added.status_code, dropped.status_code) == (200, 200, 200)

    purposes = {}
    for row in Notification.objects.filter(reminder_id=booked["id"]).select_related("person", "reminder"):
        purposes.setdefault(notification_purpose(row), set()).add(row.person.name)
    assert purposes == {
        "Appointment confirmation: Annual review": {"Carla Client", "Dan Client", "Eve Client"},
        "Appointment update: Annual review": {"Carla Client", "Dan Client"},
        "Appointment cancellation: Annual review": {"Carla Client", "Dan Client", "Eve Client"},
    }
    client.force_login(staff_user)
    page = client.get(reverse("admin:notifications_notification_changelist")).content.decode()
    for label in ("Appointment confirmation", "Appointment update", "Appointment cancellation"):
        assert label in page


def test_the_reminders_own_message_names_the_appointments_time_and_place(firm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _create(
            firm,
            template="See you {{ appointment.when }} at {{ appointment.location }} for {{ appointment.title }}.",
            recipients=[str(firm.carla.pk)],
        )
    assert response.status_code == 201, response.content
    reminder = Reminder.objects.get(pk=response.json()["id"])

    tick(now=reminder.next_run_at + timedelta(seconds=20))

    sent = Notification.objects.get(reminder=reminder, idempotency_key__contains=":reminder:")
    assert f"10 March {NEXT_YEAR}, 10:30 to 11:15 (Europe/Berlin) at Main St 1, Berlin for Annual review." in sent.body
    assert "{{" not in sent.body
