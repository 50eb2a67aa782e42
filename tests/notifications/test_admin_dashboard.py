"""The staff delivery dashboard: today's counts per channel and the failing workspaces."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from birthdaybuddy import worker_health
from notifications import selectors
from notifications import tasks as notification_tasks
from notifications.models import Notification
from tests.factories import UserFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "admin:notifications_dashboard"


@pytest.fixture
def today():
    start, _ = selectors.utc_day_bounds(timezone.now())
    return start + timedelta(minutes=1)


@pytest.fixture
def deliveries(today):
    """Two failing workspaces (3 and 1 failures today), one healthy one, and yesterday's failures."""
    noisy = WorkspaceFactory(name="Noisy Accountants")
    quiet = WorkspaceFactory(name="Quiet Dentists")
    healthy = WorkspaceFactory(name="Healthy Bakery")
    for _ in range(3):
        NotificationFactory(
            workspace=noisy,
            channel="sms",
            status="failed",
            created_at=today,
            last_error="recipient_unsubscribed (twilio 21610: x)",
        )
    NotificationFactory(workspace=noisy, channel="sms", status="delivered", created_at=today)
    NotificationFactory(workspace=quiet, channel="email", status="failed", created_at=today, last_error="smtp 550")
    NotificationFactory(workspace=healthy, channel="slack", status="sent", created_at=today)
    NotificationFactory(workspace=healthy, channel="slack", status="failed", created_at=today - timedelta(days=1))
    return noisy, quiet, healthy


def test_superuser_sees_todays_counts_and_failing_workspaces(client, staff_user, deliveries):
    client.force_login(staff_user)

    response = client.get(reverse(DASHBOARD))

    assert response.status_code == 200
    channels = {row["channel"]: row for row in response.context["channels"]}
    assert (channels["sms"]["sent"], channels["sms"]["delivered"], channels["sms"]["failed"]) == (1, 1, 3)
    assert (channels["email"]["sent"], channels["email"]["failed"]) == (0, 1)
    assert (channels["slack"]["sent"], channels["slack"]["failed"]) == (1, 0)  # yesterday's failure not counted
    failing = response.context["failing"]
    assert [row["name"] for row in failing] == ["Noisy Accountants", "Quiet Dentists"]
    assert (failing[0]["failed"], failing[0]["total"], failing[0]["top_reason"]) == (3, 4, "recipient_unsubscribed")
    page = response.content.decode()
    assert "Noisy Accountants" in page
    assert "Healthy Bakery" not in page
    assert failing[0]["url"] in page.replace("&amp;", "&")


def test_the_failing_workspace_link_lists_its_failures(client, staff_user, deliveries):
    noisy, *_ = deliveries
    client.force_login(staff_user)
    url = client.get(reverse(DASHBOARD)).context["failing"][0]["url"]

    listing = client.get(url)

    assert listing.status_code == 200
    result = listing.context["cl"].result_list
    assert len(result) == 3
    assert {row.workspace_id for row in result} == {noisy.pk}
    assert {row.status for row in result} == {"failed"}


def test_empty_day(client, staff_user):
    client.force_login(staff_user)

    response = client.get(reverse(DASHBOARD))

    assert response.status_code == 200
    assert "No failed notifications today." in response.content.decode()


def test_the_admin_index_links_to_the_dashboard(client, staff_user):
    client.force_login(staff_user)

    page = client.get(reverse("admin:index")).content.decode()

    assert reverse(DASHBOARD) in page


def test_non_staff_are_refused(client, user):
    client.force_login(user)

    response = client.get(reverse(DASHBOARD))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_are_sent_to_login(client):
    response = client.get(reverse(DASHBOARD))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_notification_permission_get_403(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    assert client.get(reverse(DASHBOARD)).status_code == 403
    assert reverse(DASHBOARD) not in client.get(reverse("admin:index")).content.decode()

    staff.user_permissions.add(Permission.objects.get(codename="view_notification"))
    assert client.get(reverse(DASHBOARD)).status_code == 200


def test_a_constant_number_of_queries(client, staff_user, deliveries, django_assert_max_num_queries):
    client.force_login(staff_user)
    with django_assert_max_num_queries(11):  # session + user + 3 counting + week + stuck + zones + admin context
        client.get(reverse(DASHBOARD))


def test_the_dashboard_shows_a_failing_tick_and_a_healthy_sweeper(client, staff_user):
    """An outage the worker cannot get past shows on the dashboard, with the error."""
    cache.delete_many([worker_health.KEY.format(name) for name in worker_health.JOBS])
    notification_tasks.sweep()
    with pytest.raises(ConnectionError), worker_health.job_monitored("tick"):
        raise ConnectionError("the connection is closed")
    client.force_login(staff_user)

    response = client.get(reverse(DASHBOARD))

    worker = response.context["worker"]
    assert worker["ok"] is False
    jobs = {job["name"]: job for job in worker["jobs"]}
    assert (jobs["tick"]["ok"], jobs["tick"]["consecutive_failures"]) == (False, 1)
    assert jobs["tick"]["last_success_at"] is None
    assert (jobs["sweep"]["ok"], jobs["sweep"]["consecutive_failures"]) == (True, 0)
    page = response.content.decode()
    assert "not doing its work" in page
    assert "ConnectionError: the connection is closed" in page


def test_failures_are_grouped_by_their_real_cause_not_the_retry_prefix(client, staff_user):
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory(name="Acme")
    for error in (
        "gave up after 5 attempts: HTTP 503: upstream down",
        "gave up after 5 attempts: HTTP 503: again",
        "channel_not_found",
    ):
        NotificationFactory(workspace=workspace, status="failed", last_error=error)
    client.force_login(staff_user)

    rows = client.get(reverse("admin:notifications_dashboard")).context["failing"]

    assert rows[0]["top_reason"] == "HTTP 503"


def test_the_week_chart_stuck_rows_and_resend_failed(client, staff_user):
    workspace = WorkspaceFactory(name="Acme", timezone="Europe/Berlin")
    failed = NotificationFactory(workspace=workspace, status="failed", last_error="channel_not_found")
    NotificationFactory(workspace=workspace, status="sent")
    stuck = NotificationFactory(
        workspace=workspace, status="pending", next_attempt_at=timezone.now() - timedelta(minutes=40)
    )
    client.force_login(staff_user)

    page = client.get(reverse("admin:notifications_dashboard"), {"tz": "Europe/Berlin", "stuck": "30"})

    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body
    assert "1 sent" in body
    assert "1 failed" in body
    assert [row["notification"].pk for row in page.context["stuck"]] == [stuck.pk]
    assert "Europe/Berlin" in body
    assert 'style="' not in body.split('id="dashboard-week"')[1]
    row = page.context["failing"][0]
    done = client.post(row["resend_url"], follow=True)
    assert done.status_code == 200
    assert Notification.objects.filter(resent_from=failed).count() == 1
    assert client.get(row["resend_url"]).status_code == 403


def test_todays_counts_failing_workspaces_and_links_follow_the_chosen_zones_day(client, staff_user):
    zone = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its day never matches the UTC day
    start, end = selectors.local_day_bounds(timezone.now(), zone)
    assert end - start == timedelta(days=1)
    workspace = WorkspaceFactory(name="Island Office", timezone="Pacific/Kiritimati")
    before = NotificationFactory(
        workspace=workspace, channel="whatsapp", status="failed", created_at=start - timedelta(minutes=1)
    )
    inside = NotificationFactory(
        workspace=workspace, channel="whatsapp", status="failed", created_at=start + timedelta(minutes=1)
    )
    NotificationFactory(workspace=workspace, channel="whatsapp", status="sent", created_at=end - timedelta(minutes=1))
    NotificationFactory(workspace=workspace, channel="whatsapp", status="failed", created_at=end)
    client.force_login(staff_user)

    response = client.get(reverse(DASHBOARD), {"tz": "Pacific/Kiritimati"})

    assert response.status_code == 200
    whatsapp = next(row for row in response.context["channels"] if row["channel"] == "whatsapp")
    assert (whatsapp["total"], whatsapp["failed"], whatsapp["sent"]) == (2, 1, 1)
    [failing] = response.context["failing"]
    assert (failing["name"], failing["failed"], failing["total"]) == ("Island Office", 1, 2)
    assert f"{start.date():%Y-%m-%d} in Pacific/Kiritimati" in response.content.decode()
    listed = client.get(failing["url"]).context["cl"].result_list
    assert [row.pk for row in listed] == [inside.pk]
    assert before.pk not in {row.pk for row in client.get(whatsapp["url"]).context["cl"].result_list}
