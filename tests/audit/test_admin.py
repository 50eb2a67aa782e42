"""The staff's audit log (Django's test client): action names, the workspace filter, the replay action."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.entries import audit_manual_send, audit_notification_failed
from notifications.models import Notification
from tests.factories import PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:auditlog_logentry_changelist"


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _rows(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_a_delivery_failure_is_listed_by_its_name_not_as_access(admin_client, workspace):
    failed = NotificationFactory(workspace=workspace, status="failed", recipient="+14155550100", channel="sms")
    entry = audit_notification_failed(notification=failed, status="failed", reason="21211 invalid 'To'")

    page = _rows(admin_client.get(reverse(CHANGELIST)))

    assert '<td class="field-action_name">notification.failed</td>' in page
    assert "Access</td>" not in page
    detail = _rows(admin_client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk])))
    assert "notification.failed" in detail


def test_filter_by_action_name(admin_client, workspace, user):
    failed = NotificationFactory(workspace=workspace, status="failed")
    audit_notification_failed(notification=failed, status="failed", reason="boom")
    audit_manual_send(workspace=workspace, actor=user, action="reminder.send_now", details={"created": 1})

    failures = admin_client.get(reverse(CHANGELIST), {"action_name": "notification.failed"})
    manual = admin_client.get(reverse(CHANGELIST), {"action_name": "manual"})

    assert list(failures.context["cl"].result_list.values_list("additional_data__operation", flat=True)) == [
        "notification.failed"
    ]
    assert list(manual.context["cl"].result_list.values_list("additional_data__operation", flat=True)) == [
        "reminder.send_now"
    ]


def test_filter_by_workspace_offers_names_and_keeps_to_one_workspace(admin_client):
    mine = WorkspaceFactory(name="Acme Bakery")
    other = WorkspaceFactory(name="Other Shop")
    PersonFactory(workspace=mine, name="Mine Person")
    PersonFactory(workspace=other, name="Other Person")

    everything = _rows(admin_client.get(reverse(CHANGELIST)))
    assert "Acme Bakery" in everything  # offered by name in the filter and named in the rows
    response = admin_client.get(reverse(CHANGELIST), {"workspace": str(mine.pk)})

    shown = {entry.object_repr for entry in response.context["cl"].result_list}
    assert "Mine Person" in shown
    assert "Other Person" not in shown
    assert "Other Shop" not in shown
    # Not a workspace id: nothing, not an error.
    assert admin_client.get(reverse(CHANGELIST), {"workspace": "not-a-uuid"}).context["cl"].result_count == 0


def test_replay_of_one_entry_resends_its_failed_notification(admin_client, workspace, staff_user):
    failed = NotificationFactory(workspace=workspace, status="failed")
    entry = audit_notification_failed(notification=failed, status="failed", reason="boom")

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "replay_notifications", "_selected_action": [str(entry.pk)]}, follow=True
    )

    copy = Notification.objects.get(resent_from=failed)
    assert copy.status == "pending"
    page = response.content.decode()
    assert f"Entry {entry.pk}" in page
    assert f"sent again as {str(copy.pk)[:8]}" in page
    resend = LogEntry.objects.filter(additional_data__operation="notification.resend").get()
    assert resend.additional_data["details"]["replayed_entry"] == entry.pk
    assert resend.additional_data["details"]["origin"] == "admin"
    assert resend.actor_id == staff_user.pk


def test_replay_of_several_entries_asks_first_then_reports_each(admin_client, workspace, user):
    failed = NotificationFactory(workspace=workspace, status="failed")
    sent = NotificationFactory(workspace=workspace, status="sent")
    failure = audit_notification_failed(notification=failed, status="failed", reason="boom")
    about_sent = audit_manual_send(workspace=workspace, actor=user, action="notification.resend", target=sent)
    person = PersonFactory(workspace=workspace)
    about_person = LogEntry.objects.get_for_object(person).get()
    selected = [str(failure.pk), str(about_sent.pk), str(about_person.pk)]

    asked = admin_client.post(reverse(CHANGELIST), {"action": "replay_notifications", "_selected_action": selected})

    page = _rows(asked)
    assert "Replay notifications" in page
    assert "left alone: its notification is sent" in page
    assert "left alone: Only entries about a notification can be replayed." in page
    assert not Notification.objects.filter(resent_from__isnull=False).exists()

    done = admin_client.post(
        reverse(CHANGELIST),
        {"action": "replay_notifications", "_selected_action": selected, "confirmed": "yes"},
        follow=True,
    )

    report = done.content.decode()
    assert Notification.objects.filter(resent_from=failed).count() == 1
    assert not Notification.objects.filter(resent_from=sent).exists()
    assert f"Entry {about_sent.pk}" in report
    assert "not replayed. Only failed or unknown notifications can be resent; this one is sent." in report
    assert f"Entry {about_person.pk}" in report


def test_replay_needs_the_right_to_resend(client, workspace):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_logentry", content_type__app_label="auditlog"))
    client.force_login(staff)
    failed = NotificationFactory(workspace=workspace, status="failed")
    entry = audit_notification_failed(notification=failed, status="failed", reason="boom")

    response = client.post(
        reverse(CHANGELIST), {"action": "replay_notifications", "_selected_action": [str(entry.pk)]}, follow=True
    )

    assert "You may not resend notifications." in response.content.decode()
    assert not Notification.objects.filter(resent_from=failed).exists()
