"""Job runs in the admin: counts from their notifications, a link to them, empty ticks folded away."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from scheduling.tick import tick
from tests.factories import PersonFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def runs(make_workspace):
    """A tick that wrote a digest (then failed) and a tick that found nothing."""
    workspace = make_workspace(tz="Europe/Berlin", name="Acme")
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    day = reminder.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).date()
    PersonFactory(workspace=workspace, name="Ana", birth_month=day.month, birth_day=day.day, slack_user_id="U1")
    idle = tick(now=reminder.next_run_at - timedelta(minutes=5))
    worked = tick(now=reminder.next_run_at + timedelta(seconds=20))
    assert (idle.due, worked.created) == (0, 1)
    Notification.objects.update(status="failed", last_error="channel_not_found")
    return worked, idle


def test_runs_with_work_are_listed_with_counts_from_their_notifications(admin_client, runs):
    worked, idle = runs
    url = reverse("admin:scheduling_jobrun_changelist")

    shown = admin_client.get(url)

    assert shown.status_code == 200
    rows = list(shown.context["cl"].result_list)
    assert [row.pk for row in rows] == [worked.pk]  # the empty tick is folded away by default
    assert (rows[0].n_created, rows[0].n_sent, rows[0].n_failed, rows[0].n_skipped) == (1, 0, 1, 0)

    everything = admin_client.get(url, {"work": "all"}).context["cl"].result_list
    assert {row.pk for row in everything} == {worked.pk, idle.pk}
    nothing = admin_client.get(url, {"work": "none"}).context["cl"].result_list
    assert [row.pk for row in nothing] == [idle.pk]


def test_a_run_links_to_its_own_notifications(admin_client, runs):
    worked, _ = runs
    mine = Notification.objects.get()
    NotificationFactory(workspace=mine.workspace, status="failed")  # another one of the same workspace

    listing = admin_client.get(reverse("admin:scheduling_jobrun_changelist")).content.decode()
    link = reverse("admin:notifications_notification_changelist") + f"?job_run={worked.pk}"
    assert f'href="{link}"' in listing

    notifications = admin_client.get(link)
    assert notifications.status_code == 200
    assert [n.pk for n in notifications.context["cl"].result_list] == [mine.pk]

    detail = admin_client.get(reverse("admin:scheduling_jobrun_change", args=[worked.pk])).content.decode()
    assert "1 notification(s)" in detail
    assert (
        admin_client.get(reverse("admin:notifications_notification_changelist"), {"job_run": "nope"}).status_code == 200
    )
