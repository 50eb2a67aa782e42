"""A gathering's checklist: tasks and things to bring, assigned to participants and reminded
through the reminders pipeline (the day before, at notify_at, quiet hours and opt-outs, once)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.test import TestCase

from birthdaybuddy.errors import ApplicationError
from events.services import event_cancel
from gatherings import checklist
from gatherings.models import Task
from notifications.models import Notification
from reminders.models import Reminder
from scheduling import tick as scheduling

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=BERLIN).astimezone(UTC)


def test_an_assigned_task_with_a_due_date_is_reminded_the_day_before_once(party):
    """GIVEN a task for Ana due on 10 June (workspace in Berlin, notify_at 09:00)
    WHEN the tick runs at 09:00 on 9 June, and again
    THEN Ana gets one message about it, and none before."""
    party.ana.email = "ana@example.com"
    party.ana.save()
    task = checklist.task_create(
        event=party.event,
        data={"title": "Buy {{ drinks }}", "assignee": str(party.ana.id), "due_on": date(2026, 6, 10)},
        actor=party.host,
        now=NOW,
    )
    reminder = task.reminder
    assert reminder is not None
    assert reminder.next_run_at == local(date(2026, 6, 9), time(9))
    assert list(reminder.recipients.all()) == [party.ana]

    scheduling.tick(now=local(date(2026, 6, 9), time(8, 59)))
    assert Notification.objects.count() == 0
    scheduling.tick(now=local(date(2026, 6, 9), time(9, 0, 30)))
    scheduling.tick(now=local(date(2026, 6, 9), time(9, 2)))
    notification = Notification.objects.get()
    assert notification.recipient == "ana@example.com"
    assert "Buy (( drinks ))" in notification.body  # the title is text, not template syntax
    assert "Summer party" in notification.body


def test_the_reminder_follows_the_due_date_the_assignee_and_is_paused_when_done(party):
    task = checklist.task_create(
        event=party.event,
        data={"title": "Chairs", "assignee": str(party.ana.id), "due_on": date(2026, 6, 10)},
        actor=party.host,
        now=NOW,
    )
    task = checklist.task_update(task=task, data={"due_on": date(2026, 6, 20)}, actor=party.host, now=NOW)
    reminder = Reminder.objects.get(pk=task.reminder_id)
    assert reminder.next_run_at == local(date(2026, 6, 19), time(9))
    checklist.task_update(task=task, data={"assignee": str(party.bo.id)}, actor=party.host, now=NOW)
    assert list(reminder.recipients.all()) == [party.bo]
    checklist.task_update(task=task, data={"done": True}, actor=party.host, now=NOW)
    reminder.refresh_from_db()
    assert reminder.active is False
    scheduling.tick(now=local(date(2026, 6, 19), time(9, 1)))
    assert Notification.objects.count() == 0
    task.refresh_from_db()
    assert task.done_at == NOW


def test_a_task_due_tomorrow_after_notify_at_is_reminded_on_the_day(party):
    now = local(date(2026, 6, 9), time(10))
    task = checklist.task_create(
        event=party.event, data={"title": "Cake", "assignee": str(party.cy.id), "due_on": date(2026, 6, 10)}, now=now
    )
    assert task.reminder.next_run_at == local(date(2026, 6, 10), time(9))


def test_without_assignee_or_due_date_there_is_no_reminder(party):
    task = checklist.task_create(event=party.event, data={"title": "Music"}, now=NOW)
    assert task.reminder is None
    task = checklist.task_create(event=party.event, data={"title": "Music", "due_on": date(2026, 6, 5)}, now=NOW)
    assert task.reminder is None


def test_deleting_a_task_or_cancelling_its_event_stops_its_reminder(party):
    data = {"title": "Tent", "assignee": str(party.ana.id), "due_on": date(2026, 6, 10)}
    task = checklist.task_create(event=party.event, data=data, now=NOW)
    reminder_id = task.reminder_id
    checklist.task_delete(task=task, actor=party.host)
    assert not Reminder.objects.filter(pk=reminder_id).exists()

    task = checklist.task_create(event=party.event, data=data, now=NOW)
    with TestCase.captureOnCommitCallbacks(execute=True):
        event_cancel(event=party.event)
    assert Reminder.objects.get(pk=task.reminder_id).active is False


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"title": ""}, "title", "required"),
        ({"title": "x" * 201}, "title", "max_length"),
        ({"title": "Ok", "due_on": date(2026, 5, 31)}, "due_on", "in_the_past"),
        ({"title": "Ok", "due_on": date(2030, 1, 1)}, "due_on", "out_of_range"),
        ({"title": "Ok", "kind": "chore"}, "kind", "invalid_choice"),
    ],
)
def test_bad_tasks_are_refused_naming_the_field(party, data, field, code):
    reminders = Reminder.objects.count()
    with pytest.raises(ValidationError) as refused:
        checklist.task_create(event=party.event, data=data, now=NOW)
    assert refused.value.error_dict[field][0].code == code
    assert Task.objects.count() == 0
    assert Reminder.objects.count() == reminders


def test_the_api_refuses_an_assignee_who_is_not_a_participant(party):
    body = {"event": str(party.event.id), "title": "Glasses", "assignee": str(party.outsider.id)}
    response = party.other_client.post(f"{party.api}/tasks/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["assignee"]
    assert Task.objects.count() == 0


def test_members_manage_the_checklist_through_the_api(party):
    due = (datetime.now(tz=BERLIN) + timedelta(days=5)).date()
    body = {"event": str(party.event.id), "title": "Salad", "kind": "bring", "assignee": str(party.bo.id)}
    response = party.other_client.post(f"{party.api}/tasks/", {**body, "due_on": due.isoformat()}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["assignee_name"] == "Bo Berg"
    assert created["reminder_at"] is not None
    url = f"{party.api}/tasks/{created['id']}/"
    response = party.other_client.patch(url, {"done": True}, format="json")
    assert response.status_code == 200
    assert response.json()["reminder_at"] is None
    assert LogEntry.objects.filter(additional_data__operation__startswith="task.").count() == 2
    listed = party.other_client.get(f"{party.api}/tasks/", {"event": str(party.event.id), "done": "true"}).json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]


def test_a_guest_signs_up_for_an_open_item_once(party):
    task = checklist.task_create(event=party.event, data={"title": "Dessert", "kind": "bring"}, now=NOW)
    checklist.task_sign_up(task=task, guest=party.ana, now=NOW)
    task.refresh_from_db()
    assert task.assignee == party.ana
    with pytest.raises(ApplicationError) as refused:
        checklist.task_sign_up(task=task, guest=party.bo, now=NOW)
    assert refused.value.code == "already_taken"
    task.refresh_from_db()
    assert task.assignee == party.ana
