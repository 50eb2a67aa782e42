"""The reminder admin: the API's rules on every save, local times, and actions that never skip a date."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create
from scheduling.models import Occurrence
from scheduling.tick import tick

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/reminders/reminder/"
ADD = "/admin/reminders/reminder/add/"


@pytest.fixture
def admin_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def berlin(make_workspace):
    return make_workspace(tz="Europe/Berlin", name="Lima & Co")


def _add(client, workspace, kind, data):
    return client.post(f"{ADD}?workspace={workspace.pk}&kind={kind}", data)


def _errors(response) -> dict:
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def test_adding_starts_with_the_workspace_and_the_kind(admin_client, berlin):
    first = admin_client.get(ADD)
    assert first.status_code == 200
    assert "Whose reminder" in first.content.decode()

    form = admin_client.get(ADD, {"workspace": str(berlin.pk), "kind": "recurring"})
    page = form.content.decode()
    assert form.status_code == 200
    assert "First time (Europe/Berlin)" in page
    assert 'name="rrule"' in page
    assert 'name="offset_minutes"' not in page  # an event reminder's field: not on this kind's form
    assert "bb-rrule-picker" in page


def test_a_one_time_reminder_is_created_through_the_service_in_the_workspace_zone(admin_client, berlin, person):
    ana = person(berlin, name="Ana", email="ana@example.com")

    response = _add(
        admin_client,
        berlin,
        "one_time",
        {
            "send_at": "2030-01-01T09:00",
            "recipients": [str(ana.pk)],
            "channels": ["sms", "email"],
            "message": "Hi",
            "active": "on",
        },
    )

    assert response.status_code == 302, (_errors(response), response.context["adminform"].form.non_field_errors())
    reminder = Reminder.objects.get(kind=ReminderKind.ONE_TIME)
    assert reminder.run_at == datetime(2030, 1, 1, 8, tzinfo=UTC)  # 09:00 in Berlin, not 09:00 UTC
    assert reminder.next_run_at == reminder.run_at
    assert reminder.channels == ["sms", "email"]  # the order ticked is the order of preference
    assert list(reminder.recipients.all()) == [ana]
    assert reminder.audience == "people"


def test_an_rrule_the_api_refuses_is_refused_with_the_fields_label(admin_client, berlin, person):
    ana = person(berlin, email="ana@example.com")

    response = _add(
        admin_client,
        berlin,
        "recurring",
        {"send_at": "2030-01-06T09:00", "rrule": "every monday", "recipients": [str(ana.pk)], "message": "Hi"},
    )

    assert response.status_code == 200
    errors = _errors(response)
    assert "rrule" in errors
    assert "Not a valid RRULE" in errors["rrule"][0]
    assert not Reminder.objects.filter(kind=ReminderKind.RECURRING).exists()


def test_a_person_of_another_workspace_is_refused_as_recipient(admin_client, berlin, make_workspace, person):
    other = make_workspace(name="Someone else")
    stranger = person(other, email="stranger@example.com")

    response = _add(
        admin_client,
        berlin,
        "one_time",
        {"send_at": "2030-01-01T09:00", "recipients": [str(stranger.pk)], "message": "Hi"},
    )

    assert response.status_code == 200
    assert "recipients" in _errors(response)
    assert not Reminder.objects.exclude(kind=ReminderKind.BIRTHDAY_DIGEST).exists()


def test_editing_goes_through_the_service_and_keeps_its_rules(admin_client, berlin, person):
    ana = person(berlin, email="ana@example.com")
    reminder = reminder_create(
        workspace=berlin,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        data={
            "kind": "recurring",
            "run_at": datetime(2030, 1, 31, 15, tzinfo=UTC),
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=-1",
            "recipients": [ana.pk],
            "channels": ["email"],
            "message": "Month-end",
        },
    )
    url = reverse("admin:reminders_reminder_change", args=[reminder.pk])
    page = admin_client.get(url).content.decode()
    assert "On the last day of every month at 16:00" in page
    assert "2030-01-31T16:00" in page  # the first time as written, in Berlin
    assert "Europe/Berlin" in page

    data = {
        "name": reminder.name,
        "active": "on",
        "message": "Month-end close",
        "send_at": "2030-01-31T16:00",
        "rrule": "every monday",
        "audience": "people",
        "recipients": [str(ana.pk)],
        "channels": ["email"],
    }
    refused = admin_client.post(url, data)
    assert refused.status_code == 200
    assert "rrule" in _errors(refused)
    reminder.refresh_from_db()
    assert (reminder.rrule, reminder.message) == ("FREQ=MONTHLY;BYMONTHDAY=-1", "Month-end")

    data["rrule"] = "FREQ=WEEKLY;BYDAY=MO"
    saved = admin_client.post(url, data)
    assert saved.status_code == 302, _errors(saved)
    reminder.refresh_from_db()
    assert (reminder.rrule, reminder.message) == ("FREQ=WEEKLY;BYDAY=MO", "Month-end close")
    assert reminder.next_run_at == datetime(2030, 1, 31, 15, tzinfo=UTC)  # the first time, as written


def berlin_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


def test_people_autocomplete_lists_the_workspace_only(admin_client, berlin, make_workspace, person):
    person(berlin, name="Ana Lima", email="ana@example.com")
    person(make_workspace(), name="Ana Other", email="other@example.com")
    url = reverse("admin:reminders_reminder_autocomplete", args=["people"])

    found = admin_client.get(url, {"workspace": str(berlin.pk), "term": "ana"}).json()

    assert [row["text"] for row in found["results"]] == ["Ana Lima <ana@example.com>"]
    assert admin_client.get(url, {"term": "ana"}).status_code == 400


def test_rrule_preview_reads_the_rule_and_lists_five_times_in_the_workspace_zone(admin_client, berlin):
    url = reverse("admin:reminders_reminder_rrule_preview")

    body = admin_client.get(
        url, {"workspace": str(berlin.pk), "rrule": "FREQ=MONTHLY;BYMONTHDAY=-1", "start": "2030-01-31T16:00"}
    ).json()

    assert body["ok"] is True
    assert body["reading"] == "On the last day of every month at 16:00"
    assert body["timezone"] == "Europe/Berlin"
    assert [o["local"] for o in body["occurrences"]][:2] == ["Thu 2030-01-31 16:00", "Thu 2030-02-28 16:00"]
    assert len(body["occurrences"]) == 5
    assert body["occurrences"][0]["utc"] == "2030-01-31 15:00 UTC"

    refused = admin_client.get(url, {"workspace": str(berlin.pk), "rrule": "every monday"}).json()
    assert refused["ok"] is False
    assert "Not a valid RRULE" in refused["error"]


def test_send_now_never_consumes_a_future_occurrence(admin_client, berlin, person):
    ana = person(berlin, email="ana@example.com")
    reminder = reminder_create(
        workspace=berlin,
        data={
            "kind": "recurring",
            "run_at": datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=3),
            "rrule": "FREQ=MONTHLY",
            "recipients": [ana.pk],
            "channels": ["email"],
            "message": "Due soon",
        },
    )
    scheduled = reminder.next_run_at

    response = admin_client.post(
        CHANGELIST, {"action": "send_now", "_selected_action": [str(reminder.pk)]}, follow=True
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any("extra copy" in m and "schedule is unchanged" in m for m in shown), shown
    reminder.refresh_from_db()
    assert reminder.next_run_at == scheduled
    assert Notification.objects.filter(reminder=reminder).count() == 1
    assert not Occurrence.objects.filter(reminder=reminder).exists()
    tick(now=scheduled + timedelta(seconds=30))
    assert Notification.objects.filter(reminder=reminder).count() == 2  # the occurrence still went out


def test_actions_on_several_reminders_ask_first_and_report_each(admin_client, berlin, person):
    ana = person(berlin, email="ana@example.com")
    one = reminder_create(
        workspace=berlin,
        data={
            "kind": "one_time",
            "run_at": datetime(2030, 1, 1, 9, tzinfo=UTC),
            "recipients": [ana.pk],
            "message": "Hi",
        },
    )
    digest = Reminder.objects.get(workspace=berlin, kind=ReminderKind.BIRTHDAY_DIGEST)
    selection = {"action": "run_digest_now", "_selected_action": [str(one.pk), str(digest.pk)]}

    asked = admin_client.post(CHANGELIST, selection)

    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Run today&#x27;s digest now" in page or "Run today's digest now" in page
    assert "not a birthday digest" in page
    assert not Notification.objects.exists()

    done = admin_client.post(CHANGELIST, {**selection, "confirmed": "yes"}, follow=True)
    shown = [str(m) for m in done.context["messages"]]
    assert any("not a birthday digest" in m for m in shown)
    assert any(berlin.name in m and "Nobody celebrates" in m for m in shown), shown


def test_run_digest_reports_a_failed_digest_as_failed(admin_client, berlin, person):
    from workspaces.models import Person

    Person.objects.filter(pk=person(berlin, name="Ana").pk).update(
        birth_month=datetime.now(berlin_zone()).month, birth_day=datetime.now(berlin_zone()).day
    )
    digest = Reminder.objects.get(workspace=berlin, kind=ReminderKind.BIRTHDAY_DIGEST)
    selection = {"action": "run_digest_now", "_selected_action": [str(digest.pk)]}
    admin_client.post(CHANGELIST, selection)
    Notification.objects.update(status="failed", last_error="channel_not_found")

    again = admin_client.post(CHANGELIST, selection, follow=True)

    shown = [str(m) for m in again.context["messages"]]
    assert any("1 already failed" in m for m in shown), shown
    assert not any("already sent" in m or "already delivered" in m for m in shown)


def test_the_digest_cannot_be_deleted(admin_client, berlin):
    digest = Reminder.objects.get(workspace=berlin, kind=ReminderKind.BIRTHDAY_DIGEST)
    assert admin_client.get(reverse("admin:reminders_reminder_delete", args=[digest.pk])).status_code == 403
    assert admin_client.get(reverse("admin:reminders_reminder_change", args=[digest.pk])).status_code == 200
