from datetime import UTC, datetime

import pytest

from notifications.models import DeliveryAttempt, Notification
from tests.conftest import client_for
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def history_url(workspace, suffix=""):
    return f"/api/v1/workspaces/{workspace.pk}/notifications/{suffix}"


def with_attempts(notification, count):
    for number in range(1, count + 1):
        DeliveryAttempt.objects.create(notification=notification, number=number, outcome="transient", status_code=500)
    return notification


def test_history_lists_notifications_with_attempts_in_constant_queries(
    auth_client, workspace, django_assert_max_num_queries
):
    for _ in range(3):
        with_attempts(
            NotificationFactory(workspace=workspace, status="failed", person=PersonFactory(workspace=workspace)), 2
        )
    NotificationFactory(workspace=WorkspaceFactory())  # another workspace's

    with django_assert_max_num_queries(6):
        response = auth_client.get(history_url(workspace))
    for _ in range(10):
        with_attempts(NotificationFactory(workspace=workspace, person=PersonFactory(workspace=workspace)), 3)
    with django_assert_max_num_queries(6):
        bigger = auth_client.get(history_url(workspace))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    first = body["results"][0]
    assert [a["number"] for a in first["delivery_attempts"]] == [1, 2]
    assert first["person_name"]
    assert bigger.json()["count"] == 13


def test_history_filters(auth_client, workspace):
    person = PersonFactory(workspace=workspace)
    sent = NotificationFactory(workspace=workspace, status="sent", channel="slack")
    failed_sms = NotificationFactory(
        workspace=workspace, status="failed", channel="sms", recipient="+14155550123", person=person
    )
    old = NotificationFactory(workspace=workspace, status="sent", created_at=datetime(2026, 1, 5, 12, tzinfo=UTC))

    def ids(query):
        response = auth_client.get(history_url(workspace) + query)
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["results"]}

    assert ids("?status=failed") == {str(failed_sms.pk)}
    assert ids("?status=sent&status=failed") == {str(sent.pk), str(failed_sms.pk), str(old.pk)}
    assert ids("?channel=sms") == {str(failed_sms.pk)}
    assert ids(f"?person={person.pk}") == {str(failed_sms.pk)}
    assert ids("?date_to=2026-01-05") == {str(old.pk)}
    assert ids("?date_from=2026-01-06") == {str(sent.pk), str(failed_sms.pk)}
    assert ids("?date_from=2026-01-05&date_to=2026-01-05") == {str(old.pk)}


def test_date_filters_use_the_workspace_time_zone(auth_client, workspace):
    workspace.timezone = "Pacific/Auckland"  # UTC+13 in January
    workspace.save()
    late_utc = NotificationFactory(workspace=workspace, created_at=datetime(2026, 1, 5, 12, tzinfo=UTC))  # Jan 6 local

    response = auth_client.get(history_url(workspace) + "?date_from=2026-01-06&date_to=2026-01-06")

    assert [item["id"] for item in response.json()["results"]] == [str(late_utc.pk)]


@pytest.mark.parametrize("query", ["?status=lost", "?channel=fax", "?date_from=yesterday", "?person=not-a-uuid"])
def test_bad_filters_are_400(auth_client, workspace, query):
    assert auth_client.get(history_url(workspace) + query).status_code == 400


def test_resend_a_failed_notification(auth_client, workspace):
    failed = NotificationFactory(workspace=workspace, status="failed")

    response = auth_client.post(history_url(workspace, f"{failed.pk}/resend"))

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["resent_from"] == str(failed.pk)
    assert Notification.objects.get(pk=body["id"]).idempotency_key == f"resend:{failed.pk}:1"


def test_resend_of_anything_else_is_409_and_writes_nothing(auth_client, workspace):
    sent = NotificationFactory(workspace=workspace, status="sent")
    response = auth_client.post(history_url(workspace, f"{sent.pk}/resend"))
    assert response.status_code == 409
    assert response.json()["code"] == "not_resendable"
    assert Notification.objects.count() == 1


def test_members_and_outsiders_cannot_read_or_resend(member_client, workspace):
    failed = NotificationFactory(workspace=workspace, status="failed")
    outsider = client_for(UserFactory())

    assert member_client.get(history_url(workspace)).status_code == 403
    assert member_client.post(history_url(workspace, f"{failed.pk}/resend")).status_code == 403
    assert outsider.get(history_url(workspace)).status_code == 404
    assert outsider.post(history_url(workspace, f"{failed.pk}/resend")).status_code == 404
    assert Notification.objects.count() == 1


def test_another_workspaces_notification_cannot_be_resent_from_here(auth_client, workspace):
    elsewhere = NotificationFactory(workspace=WorkspaceFactory(), status="failed")
    assert auth_client.get(history_url(workspace, f"{elsewhere.pk}/")).status_code == 404
    assert auth_client.post(history_url(workspace, f"{elsewhere.pk}/resend")).status_code == 404
    assert Notification.objects.count() == 1


def test_staff_may_read_any_workspace(staff_client, workspace):
    NotificationFactory(workspace=workspace)
    assert staff_client.get(history_url(workspace)).json()["count"] == 1
