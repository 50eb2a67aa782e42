from datetime import UTC, datetime

import pytest
from django.test import Client

from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create


@pytest.mark.django_db
def test_admin_lists_reminders_and_a_staff_edit_reschedules(staff_user, make_workspace, person):
    workspace = make_workspace()
    ana = person(workspace, email="ana@example.com")
    reminder = reminder_create(
        workspace=workspace,
        now=datetime(2026, 1, 1, tzinfo=UTC),
        data={
            "kind": "one_time",
            "run_at": datetime(2030, 1, 1, 9, tzinfo=UTC),
            "recipients": [ana.pk],
            "message": "Hi",
        },
    )
    client = Client()
    client.force_login(staff_user)
    assert client.get("/admin/reminders/reminder/").status_code == 200
    assert client.get(f"/admin/reminders/reminder/{reminder.pk}/change/").status_code == 200

    Reminder.objects.filter(pk=reminder.pk).update(run_at=datetime(2031, 1, 1, 9, tzinfo=UTC))
    response = client.post(
        "/admin/reminders/reminder/",
        {"action": "reschedule", "_selected_action": [str(reminder.pk)]},
    )
    assert response.status_code == 302
    reminder.refresh_from_db()
    assert reminder.next_run_at == datetime(2031, 1, 1, 9, tzinfo=UTC)

    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    response = client.post(
        "/admin/reminders/reminder/", {"action": "send_now", "_selected_action": [str(reminder.pk), str(digest.pk)]}
    )
    assert response.status_code == 302
