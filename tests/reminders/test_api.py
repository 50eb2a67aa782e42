"""The reminders API: shape, scoping, roles, and bad input refused with nothing written."""

from datetime import UTC, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Count

from events.models import Event, EventStatus
from notifications.models import Notification
from reminders.models import Reminder
from scheduling.models import JobRun, Occurrence
from tests.conftest import client_for
from tests.factories import PersonFactory, WorkspaceFactory

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
FIELDS = {
    "id",
    "kind",
    "name",
    "event",
    "offset_minutes",
    "at",
    "at_time",
    "rrule",
    "exdates",
    "rdates",
    "recipients",
    "audience",
    "channels",
    "template",
    "message_type",
    "urgent",
    "active",
    "personal_greetings",
    "appointment",
    "next_run_at",
    "last_run_at",
    "created_at",
    "updated_at",
}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def setup(workspace, auth_client):
    workspace.timezone = "Europe/Berlin"
    workspace.save()
    ana = PersonFactory(workspace=workspace, name="Ana", email="ana@example.com", birth_month=None, birth_day=None)
    bo = PersonFactory(
        workspace=workspace,
        name="Bo",
        email="bo@example.com",
        opted_out_channels=["sms"],
        birth_month=None,
        birth_day=None,
    )
    event = Event.objects.create(
        workspace=workspace,
        title="Annual accounts",
        kind="deadline",
        starts_at=datetime(2026, 6, 30, 10, tzinfo=UTC),
    )
    url = f"/api/v1/workspaces/{workspace.id}/reminders/"
    return SimpleNamespace(workspace=workspace, client=auth_client, url=url, ana=ana, bo=bo, event=event)


def counts() -> tuple:
    through = Reminder.recipients.through.objects.count()
    return Reminder.objects.count(), through, Notification.objects.count(), Occurrence.objects.count()


@pytest.mark.django_db
def test_create_a_quarterly_reminder(setup):
    s = setup
    client, url, ana = s.client, s.url, s.ana
    response = client.post(
        url,
        {
            "kind": "recurring",
            "at": "2026-07-15T09:00",  # no offset: Berlin wall time
            "rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15",
            "recipients": [str(ana.pk)],
            "channels": ["email", "sms"],
            "template": "Hi {{ person.name }}, the VAT return is due.",
            "message_type": "deadline",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert body["at"] == "2026-07-15T07:00:00Z"
    assert body["next_run_at"] == "2026-07-15T07:00:00Z"
    assert body["recipients"] == [str(ana.pk)]
    assert body["audience"] == "people"
    assert body["channels"] == ["email", "sms"]
    assert body["event"] is None
    assert body["active"] is True
    reminder = Reminder.objects.get(pk=body["id"])
    assert reminder.message == "Hi {{ person.name }}, the VAT return is due."


@pytest.mark.django_db
def test_create_an_event_reminder_and_a_one_time_one(setup):
    s = setup
    client, url, event = s.client, s.url, s.event
    response = client.post(
        url, {"kind": "event", "event": str(event.pk), "offset_minutes": 3 * 1440, "at_time": "09:00"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["event"], body["audience"], body["message_type"]) == (str(event.pk), "attendees", "deadline")
    assert body["next_run_at"] == "2026-06-27T07:00:00Z"  # 3 days before, 09:00 in Berlin
    assert body["name"] == "Reminder: Annual accounts"

    response = client.post(
        url,
        {"kind": "one_time", "at": "2026-06-02T08:00:00+00:00", "template": "Office closed", "channels": ["slack"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["audience"] == "workspace_channel"
    assert response.json()["next_run_at"] == "2026-06-02T08:00:00Z"


@pytest.mark.django_db
def test_list_includes_the_digest_which_cannot_be_deleted_but_can_be_paused(setup):
    s = setup
    client, url = s.client, s.url
    body = client.get(url).json()
    digest = next(r for r in body["results"] if r["kind"] == "birthday_digest")
    before = counts()
    response = client.delete(f"{url}{digest['id']}/")
    assert response.status_code == 409
    assert response.json()["code"] == "digest_not_deletable"
    assert counts() == before

    response = client.patch(f"{url}{digest['id']}/", {"active": False, "at_time": "08:30"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["active"], response.json()["next_run_at"]) == (False, None)
    response = client.patch(f"{url}{digest['id']}/", {"active": True}, format="json")
    local = datetime.fromisoformat(response.json()["next_run_at"]).astimezone(ZoneInfo("Europe/Berlin"))
    assert local.time() == time(8, 30)

    response = client.patch(f"{url}{digest['id']}/", {"rrule": "FREQ=DAILY"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "digest_field"


@pytest.mark.django_db
def test_update_and_delete(setup):
    s = setup
    client, url, ana, bo = s.client, s.url, s.ana, s.bo
    created = client.post(
        url,
        {"kind": "one_time", "at": "2026-06-10T09:00", "recipients": [str(ana.pk)], "template": "Hi"},
        format="json",
    ).json()
    detail = f"{url}{created['id']}/"
    response = client.patch(detail, {"at": "2026-06-11T10:00", "recipients": [str(bo.pk)]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["next_run_at"] == "2026-06-11T08:00:00Z"
    assert response.json()["recipients"] == [str(bo.pk)]
    assert client.delete(detail).status_code == 204
    assert not Reminder.objects.filter(pk=created["id"]).exists()


def _bad_inputs(ana, bo, event, cancelled, foreign_event, foreign_person):
    one_time = {"kind": "one_time", "at": "2026-06-10T09:00", "recipients": [str(ana.pk)], "template": "Hi"}
    recurring = {**one_time, "kind": "recurring", "rrule": "FREQ=DAILY"}
    on_event = {"kind": "event", "event": str(event.pk), "offset_minutes": 60}
    return [
        ("rrule", "invalid_rrule", {**recurring, "rrule": "FREQ=SOMETIMES"}),
        ("rrule", "invalid_rrule", {**recurring, "rrule": "FREQ=MINUTELY"}),
        ("rrule", "invalid_rrule", {**recurring, "rrule": "FREQ=DAILY;INTERVAL=0"}),
        ("rrule", "invalid_rrule", {**recurring, "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}),
        ("rrule", "invalid_rrule", {**recurring, "rrule": "FREQ=DAILY\nFREQ=WEEKLY"}),
        ("rrule", "no_occurrence", {**recurring, "at": "2026-01-01T09:00", "rrule": "FREQ=DAILY;COUNT=2"}),
        ("rrule", "invalid_rrule", {**recurring, "rrule": ""}),
        ("at", "required", {**recurring, "at": None}),
        ("at", "in_the_past", {**one_time, "at": "2026-05-31T09:00"}),
        ("at", "invalid", {**one_time, "at": "next tuesday"}),
        ("at", "out_of_range", {**one_time, "at": "9999-12-31T23:59"}),
        ("offset_minutes", "offset_after_event", {**on_event, "offset_minutes": -30}),
        ("offset_minutes", "out_of_range", {**on_event, "offset_minutes": 10**8}),
        ("offset_minutes", "offset_after_event", {**on_event, "offset_minutes": 0, "at_time": "23:00"}),
        ("offset_minutes", "in_the_past", {**on_event, "offset_minutes": 60 * 24 * 40}),
        ("event", "required", {"kind": "event", "offset_minutes": 60}),
        ("event", "does_not_exist", {**on_event, "event": str(foreign_event.pk)}),
        ("event", "event_cancelled", {**on_event, "event": str(cancelled.pk)}),
        ("event", "invalid", {**one_time, "event": str(event.pk)}),
        ("recipients", "invalid_recipient", {**one_time, "recipients": [str(foreign_person.pk)]}),
        ("recipients", "required", {**one_time, "audience": "people", "recipients": []}),
        ("channels", "invalid_choice", {**one_time, "channels": ["pigeon"]}),
        ("channels", "opted_out", {**one_time, "recipients": [str(bo.pk)], "channels": ["sms"]}),
        ("channels", "invalid", {**one_time, "audience": "workspace_channel", "recipients": [], "channels": ["email"]}),
        ("audience", "invalid", {**one_time, "audience": "attendees", "recipients": []}),
        ("template", "required", {**one_time, "template": ""}),
        ("template", "invalid_template", {**one_time, "template": "Hi {{ person.name "}),
        ("kind", "digest_exists", {**one_time, "kind": "birthday_digest"}),
        ("kind", "invalid_choice", {**one_time, "kind": "sometimes"}),
        ("at_time", "invalid", {**one_time, "at_time": "09:00"}),
        ("personal_greetings", "invalid", {**one_time, "personal_greetings": True}),
    ]


@pytest.mark.django_db
def test_every_bad_input_is_a_400_naming_the_field_and_writes_nothing(setup):
    s = setup
    workspace, client, url, ana, bo, event = s.workspace, s.client, s.url, s.ana, s.bo, s.event
    cancelled = Event.objects.create(
        workspace=workspace,
        title="Cancelled",
        starts_at=datetime(2026, 7, 1, tzinfo=UTC),
        status=EventStatus.CANCELLED,
        cancelled_at=NOW,
    )
    other = WorkspaceFactory()
    foreign_event = Event.objects.create(workspace=other, title="Theirs", starts_at=datetime(2026, 7, 1, tzinfo=UTC))
    foreign_person = PersonFactory(workspace=other)
    before = counts()
    failures = []
    for field, code, payload in _bad_inputs(ana, bo, event, cancelled, foreign_event, foreign_person):
        response = client.post(url, payload, format="json")
        body = response.json()
        if response.status_code != 400 or field not in body.get("errors", {}) or body["code"] != code:
            failures.append((field, code, response.status_code, body))
    assert not failures, failures
    assert counts() == before


@pytest.mark.django_db
def test_a_bad_update_changes_nothing(setup):
    s = setup
    client, url, ana, bo = s.client, s.url, s.ana, s.bo
    created = client.post(
        url,
        {
            "kind": "recurring",
            "at": "2026-06-10T09:00",
            "rrule": "FREQ=WEEKLY",
            "recipients": [str(ana.pk)],
            "template": "x",
        },
        format="json",
    ).json()
    detail = f"{url}{created['id']}/"
    reminder = Reminder.objects.get(pk=created["id"])
    snapshot = (reminder.rrule, reminder.next_run_at, list(reminder.recipients.all()))
    for payload in (
        {"rrule": "FREQ=NEVER"},
        {"kind": "one_time"},
        {"recipients": [str(bo.pk)], "channels": ["sms"]},
        {"recipients": [str(PersonFactory(workspace=WorkspaceFactory()).pk)]},
    ):
        response = client.patch(detail, payload, format="json")
        assert response.status_code == 400, (payload, response.json())
    reminder.refresh_from_db()
    assert (reminder.rrule, reminder.next_run_at, list(reminder.recipients.all())) == snapshot


@pytest.mark.django_db
def test_members_read_but_cannot_write_send_or_preview(setup, member):
    s = setup
    url, ana, owner_client = s.url, s.ana, s.client
    created = owner_client.post(
        url,
        {"kind": "one_time", "at": "2026-06-10T09:00", "recipients": [str(ana.pk)], "template": "Hi"},
        format="json",
    ).json()
    client = client_for(member)
    detail = f"{url}{created['id']}/"
    assert client.get(url).status_code == 200
    assert client.get(detail).status_code == 200
    before = counts()
    responses = [
        client.post(url, {"kind": "one_time", "at": "2026-06-10T09:00", "template": "Hi"}, format="json"),
        client.patch(detail, {"active": False}, format="json"),
        client.delete(detail),
        client.post(f"{detail}send-now"),
        client.get(f"{detail}preview"),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert {r.json()["code"] for r in responses} == {"role_required"}
    assert counts() == before


@pytest.mark.django_db
def test_send_now_and_preview_endpoints(setup):
    s = setup
    client, url, ana, bo = s.client, s.url, s.ana, s.bo
    created = client.post(
        url,
        {
            "kind": "one_time",
            "at": "2026-06-10T09:00",
            "recipients": [str(ana.pk), str(bo.pk)],
            "channels": ["sms", "email"],
            "template": "Hi {{ person.name }}",
        },
        format="json",
    ).json()
    detail = f"{url}{created['id']}/"

    preview = client.get(f"{detail}preview?count=3")
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert body["timezone"] == "Europe/Berlin"
    assert len(body["occurrences"]) == 1
    occurrence = body["occurrences"][0]
    assert occurrence["local"] == "2026-06-10T09:00"
    assert occurrence["at"] == "2026-06-10T07:00:00Z"
    assert [(m["channel"], m["recipient"], m["skipped"]) for m in occurrence["messages"]] == [
        ("email", "ana@example.com", False),  # no phone: the next channel
        ("email", "bo@example.com", False),  # opted out of SMS
    ]
    assert "Hi Ana" in occurrence["messages"][0]["body"]
    assert counts()[2:] == (0, 0)
    assert client.get(f"{detail}preview?count=51").status_code == 400
    assert client.get(f"{detail}preview?count=0").status_code == 400

    first = client.post(f"{detail}send-now")
    assert first.status_code == 201, first.json()
    assert first.json()["created"] == 2
    assert first.json()["occurrence"]["local"] == "2026-06-10T09:00"
    assert first.json()["manual_extra"] is True
    assert "schedule is unchanged" in first.json()["detail"]
    # A double click sends one copy: the second within a minute is refused and writes nothing.
    second = client.post(f"{detail}send-now")
    assert second.status_code == 409
    assert second.json()["code"] == "sent_recently"
    assert Notification.objects.count() == 2
    assert JobRun.objects.filter(kind="manual").count() == 1
    # The one-time reminder's own occurrence is still scheduled.
    assert Reminder.objects.get(pk=created["id"]).next_run_at is not None


@pytest.mark.django_db
def test_send_now_of_a_cancelled_events_reminder_is_409(setup):
    s = setup
    client, url, event = s.client, s.url, s.event
    created = client.post(url, {"kind": "event", "event": str(event.pk), "offset_minutes": 60}, format="json").json()
    Event.objects.filter(pk=event.pk).update(status=EventStatus.CANCELLED, cancelled_at=NOW)
    response = client.post(f"{url}{created['id']}/send-now")
    assert response.status_code == 409
    assert response.json()["code"] == "event_cancelled"
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_filters_and_queries(setup, django_assert_max_num_queries):
    s = setup
    client, url, ana, bo, event = s.client, s.url, s.ana, s.bo, s.event
    for offset in (60, 120, 180):
        client.post(url, {"kind": "event", "event": str(event.pk), "offset_minutes": offset}, format="json")
    for _ in range(3):
        client.post(
            url,
            {"kind": "one_time", "at": "2026-06-10T09:00", "recipients": [str(ana.pk), str(bo.pk)], "template": "x"},
            format="json",
        )
    with django_assert_max_num_queries(8):
        body = client.get(url).json()
    assert body["count"] == 7
    assert client.get(f"{url}?kind=event").json()["count"] == 3
    assert client.get(f"{url}?event={event.pk}").json()["count"] == 3
    assert client.get(f"{url}?next_run_before=2026-06-29T00:00:00Z").json()["count"] == 4  # digest + 3 one-time
    assert Reminder.objects.values("kind").annotate(n=Count("pk")).count() == 3
