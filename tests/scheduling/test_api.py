"""run-now, job-runs and upcoming through the HTTP API, and the run_birthday_job command."""

from datetime import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.models import Notification
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory
from workspaces.models import Membership, Role


@pytest.fixture
def celebrating_workspace(make_workspace):
    workspace = make_workspace(tz="Europe/Lisbon", notify_at=time(9))
    PersonFactory(workspace=workspace, name="Ana", birth_month=7, birth_day=14, slack_user_id="U01")
    return workspace


def owner_client(workspace):
    owner = Membership.objects.get(workspace=workspace, role=Role.OWNER).user
    return client_for(owner)


@pytest.mark.django_db
def test_run_now_dry_run_lists_messages_and_sends_nothing(celebrating_workspace):
    client = owner_client(celebrating_workspace)
    url = f"/api/v1/workspaces/{celebrating_workspace.pk}/run-now"
    response = client.post(url, {"date": "2026-07-14", "dry_run": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dry_run"] is True
    assert body["would_create"] == 1
    assert body["created"] == 0
    assert body["messages"][0]["channel"] == "slack"
    assert "<@U01>" in body["messages"][0]["body"]
    assert body["scheduled_for"].startswith("2026-07-14T08:00:00")  # 09:00 WEST
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_run_now_twice_sends_once_and_says_so(celebrating_workspace):
    client = owner_client(celebrating_workspace)
    url = f"/api/v1/workspaces/{celebrating_workspace.pk}/run-now"
    first = client.post(url, {"date": "2026-07-14"}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["created"] == 1
    second = client.post(url, {"date": "2026-07-14"}, format="json")
    assert second.status_code == 200
    assert second.json()["created"] == 0
    assert second.json()["already_sent"] == 1
    assert second.json()["pending"] == 1  # queued, not yet sent: not reported as "already sent"
    assert "Nothing new" in second.json()["detail"]
    assert "1 still pending" in second.json()["detail"]
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_run_now_reports_a_failed_digest_as_failed_not_sent(celebrating_workspace):
    client = owner_client(celebrating_workspace)
    url = f"/api/v1/workspaces/{celebrating_workspace.pk}/run-now"
    assert client.post(url, {"date": "2026-07-14"}, format="json").status_code == 201
    Notification.objects.update(status="failed", last_error="channel_not_found")
    again = client.post(url, {"date": "2026-07-14"}, format="json").json()
    assert (again["created"], again["already_failed"], again["already_delivered"]) == (0, 1, 0)
    assert "1 already failed" in again["detail"]
    assert "delivered" not in again["detail"]
    Notification.objects.update(status="delivered", last_error="")
    third = client.post(url, {"date": "2026-07-14"}, format="json").json()
    assert (third["already_failed"], third["already_delivered"]) == (0, 1)


@pytest.mark.django_db
def test_run_now_on_a_quiet_day(celebrating_workspace):
    response = owner_client(celebrating_workspace).post(
        f"/api/v1/workspaces/{celebrating_workspace.pk}/run-now", {"date": "2026-07-15"}, format="json"
    )
    assert response.status_code == 200
    assert "Nobody celebrates" in response.json()["detail"]


@pytest.mark.django_db
def test_a_digest_with_people_celebrating_but_no_channel_says_exactly_that(make_workspace):
    """Ana celebrates (``/birthdays/`` lists her), but no Slack channel and nobody takes the digest by
    email: the run says that no channel is configured, not that nobody celebrates."""
    workspace = make_workspace(tz="Europe/Lisbon", notify_at=time(9), slack=False)
    PersonFactory(workspace=workspace, name="Ana", birth_month=7, birth_day=14, slack_user_id="U01")
    client = owner_client(workspace)
    base = f"/api/v1/workspaces/{workspace.pk}"

    listed = client.get(f"{base}/birthdays/", {"month": 7})
    assert listed.status_code == 200, listed.content
    assert "Ana" in listed.content.decode()

    response = client.post(f"{base}/run-now", {"date": "2026-07-14"}, format="json")
    assert response.status_code == 200, response.content
    detail = response.json()["detail"]
    assert "People celebrate on 2026-07-14, but no channel is configured" in detail
    assert "Nobody celebrates" not in detail
    assert Notification.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{"date": "2026-02-30"}, {"date": "yesterday"}, {"dry_run": "maybe"}])
def test_run_now_rejects_bad_input(celebrating_workspace, payload):
    response = owner_client(celebrating_workspace).post(
        f"/api/v1/workspaces/{celebrating_workspace.pk}/run-now", payload, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_members_cannot_run_or_preview(celebrating_workspace):
    member = MembershipFactory(workspace=celebrating_workspace, role=Role.MEMBER).user
    client = client_for(member)
    base = f"/api/v1/workspaces/{celebrating_workspace.pk}"
    assert client.post(f"{base}/run-now", {}, format="json").status_code == 403
    assert client.get(f"{base}/upcoming/").status_code == 403
    assert client.get(f"{base}/job-runs/").status_code == 403
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_job_runs_show_only_this_workspaces_share(celebrating_workspace, make_workspace):
    other = make_workspace()
    PersonFactory(workspace=other, birth_month=7, birth_day=14)
    client = owner_client(celebrating_workspace)
    client.post(f"/api/v1/workspaces/{celebrating_workspace.pk}/run-now", {"date": "2026-07-14"}, format="json")
    owner_client(other).post(f"/api/v1/workspaces/{other.pk}/run-now", {"date": "2026-07-14"}, format="json")
    runs = client.get(f"/api/v1/workspaces/{celebrating_workspace.pk}/job-runs/").json()["results"]
    assert len(runs) == 1
    assert runs[0]["kind"] == "manual"
    assert runs[0]["created"] == 1


@pytest.mark.django_db
def test_upcoming_preview_lists_when_and_to_whom(make_workspace):
    workspace = make_workspace(tz="UTC", notify_at=time(23, 59))
    from django.utils import timezone

    today = timezone.now().date()
    PersonFactory(workspace=workspace, name="Soon", birth_month=today.month, birth_day=today.day)
    response = owner_client(workspace).get(f"/api/v1/workspaces/{workspace.pk}/upcoming/?days=3")
    assert response.status_code == 200
    entries = response.json()
    assert len(entries) >= 1
    assert "Soon" in entries[0]["messages"][0]["body"]
    assert owner_client(workspace).get(f"/api/v1/workspaces/{workspace.pk}/upcoming/?days=0").status_code == 400


@pytest.mark.django_db
def test_run_birthday_job_command_dry_run_then_real_then_again(celebrating_workspace):
    out = StringIO()
    call_command("run_birthday_job", workspace=celebrating_workspace.slug, date="2026-07-14", dry_run=True, stdout=out)
    assert "would send 1" in out.getvalue()
    assert "slack → webhook" in out.getvalue()
    assert Notification.objects.count() == 0

    call_command("run_birthday_job", workspace=str(celebrating_workspace.pk), date="2026-07-14", stdout=StringIO())
    assert Notification.objects.count() == 1

    again = StringIO()
    call_command("run_birthday_job", workspace=celebrating_workspace.slug, date="2026-07-14", stdout=again)
    assert "Nothing new" in again.getvalue()
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_run_birthday_job_command_bad_arguments(celebrating_workspace):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_birthday_job", date="14/07/2026")
    with pytest.raises(CommandError, match="No workspace"):
        call_command("run_birthday_job", workspace="nope")
