"""``GET …/notifications/stats``: counts per local day, channel or status, and failure reasons."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.api.stats import NotificationStatsQuerySerializer
from notifications.models import Notification
from notifications.selectors import notification_stats
from tests.conftest import client_for
from tests.factories import MembershipFactory, WorkspaceFactory
from tests.notifications.factories import NotificationFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

AUCKLAND = "Pacific/Auckland"  # UTC+13 in November (daylight saving time)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def stats_url(workspace) -> str:
    return reverse("notification-stats", kwargs={"workspace_id": workspace.pk})


@pytest.fixture
def auckland(user):
    workspace = WorkspaceFactory(timezone=AUCKLAND)
    MembershipFactory(workspace=workspace, user=user, role=Role.ADMIN)
    return workspace


def make(workspace, created_at, status="sent", channel="sms", last_error=""):
    return NotificationFactory(
        workspace=workspace, created_at=created_at, status=status, channel=channel, last_error=last_error
    )


def by_key(payload) -> dict:
    return {group["key"]: group for group in payload["groups"]}


def test_group_by_local_day(auth_client, auckland):
    """GIVEN an Auckland workspace (UTC+13)
    THEN 10:30 UTC on Nov 1 counts for Nov 1 and 11:30 UTC for Nov 2 (local midnight is 11:00 UTC)."""
    make(auckland, at("2026-11-01T10:30:00"), status="delivered")
    make(auckland, at("2026-11-01T11:30:00"), status="failed", last_error="recipient_unsubscribed (twilio 21610: x)")
    make(auckland, at("2026-11-01T12:00:00"), status="sent", channel="email")
    make(auckland, at("2026-10-30T10:00:00"), status="sent")  # Oct 30 23:00 local: outside the range
    make(WorkspaceFactory(), at("2026-11-01T12:00:00"))  # another workspace

    response = auth_client.get(stats_url(auckland), {"from": "2026-10-31", "to": "2026-11-03", "group": "day"})

    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["timezone"] == AUCKLAND
    assert payload["from"] == "2026-10-31T00:00:00+13:00"
    assert payload["to"] == "2026-11-04T00:00:00+13:00"
    assert list(by_key(payload)) == ["2026-10-31", "2026-11-01", "2026-11-02", "2026-11-03"]
    days = by_key(payload)
    assert days["2026-10-31"]["total"] == 0
    assert (days["2026-11-01"]["total"], days["2026-11-01"]["delivered"]) == (1, 1)
    assert (days["2026-11-02"]["total"], days["2026-11-02"]["failed"], days["2026-11-02"]["sent"]) == (2, 1, 1)
    assert payload["totals"] == {
        "total": 3,
        "pending": 0,
        "sending": 0,
        "sent": 1,
        "delivered": 1,
        "failed": 1,
        "skipped": 0,
        "unknown": 0,
    }
    assert payload["failure_reasons"] == [{"reason": "recipient_unsubscribed", "count": 1}]


def test_group_by_channel_lists_every_channel(auth_client, auckland):
    make(auckland, at("2026-11-01T12:00:00"), channel="sms", status="delivered")
    make(auckland, at("2026-11-01T12:00:00"), channel="sms", status="failed", last_error="x")
    make(auckland, at("2026-11-01T12:00:00"), channel="email", status="sent")

    payload = auth_client.get(
        stats_url(auckland), {"from": "2026-11-01", "to": "2026-11-05", "group": "channel"}
    ).json()

    groups = by_key(payload)
    assert list(groups) == ["slack", "email", "sms", "whatsapp", "teams", "gchat"]
    assert (groups["sms"]["total"], groups["sms"]["delivered"], groups["sms"]["failed"]) == (2, 1, 1)
    assert (groups["email"]["total"], groups["email"]["sent"]) == (1, 1)
    assert groups["slack"]["total"] == groups["whatsapp"]["total"] == 0


def test_group_by_status(auth_client, auckland):
    for status in ("sent", "sent", "skipped", "unknown", "pending"):
        make(auckland, at("2026-11-01T12:00:00"), status=status)

    payload = auth_client.get(stats_url(auckland), {"from": "2026-11-01", "to": "2026-11-05", "group": "status"}).json()

    groups = by_key(payload)
    assert list(groups) == ["pending", "sending", "sent", "delivered", "failed", "skipped", "unknown"]
    assert {key: group["total"] for key, group in groups.items() if group["total"]} == {
        "sent": 2,
        "skipped": 1,
        "unknown": 1,
        "pending": 1,
    }
    assert groups["sent"]["sent"] == 2


def test_failure_reasons_are_the_heads_of_the_errors(auth_client, auckland):
    errors = [
        "recipient_unsubscribed (twilio 21610: Attempt to send to unsubscribed recipient)",
        "recipient_unsubscribed (twilio 21610: Attempt to send to unsubscribed recipient)",
        "unreachable_handset (twilio 30003: Unreachable destination handset; undelivered)",
        "whatsapp_session_closed: the person has not written …",
        "channel_not_found",
        "gave up after 5 attempts: HTTP 500: internal_error",
        "",
    ]
    for error in errors:
        make(auckland, at("2026-11-01T12:00:00"), status="failed", last_error=error)
    make(auckland, at("2026-11-01T12:00:00"), status="skipped", last_error="The person opted out of sms.")

    payload = auth_client.get(stats_url(auckland), {"from": "2026-11-01", "to": "2026-11-05"}).json()

    assert payload["failure_reasons"] == [
        {"reason": "recipient_unsubscribed", "count": 2},
        {"reason": "HTTP 500", "count": 1},  # the cause after the retries ran out, not "gave up after 5 attempts"
        {"reason": "channel_not_found", "count": 1},
        {"reason": "unreachable_handset", "count": 1},
        {"reason": "unspecified", "count": 1},
        {"reason": "whatsapp_session_closed", "count": 1},
    ]


def test_date_times_with_offsets_and_the_default_group(auth_client, auckland):
    make(auckland, at("2026-11-01T09:00:00"))
    make(auckland, at("2026-11-01T10:00:00"))

    # "+" unencoded in a query string arrives as a space; both spellings work.
    for start in ("2026-11-01T09:30:00+00:00", "2026-11-01T09:30:00 00:00", "2026-11-01T22:30:00"):
        response = auth_client.get(stats_url(auckland) + f"?from={start}&to=2026-11-01T12:00:00Z")
        assert response.status_code == 200, (start, response.content)
        payload = response.json()
        assert payload["group"] == "day"
        assert payload["totals"]["total"] == 1, start


def test_default_range_is_the_last_30_local_days(auth_client, auckland):
    payload = auth_client.get(stats_url(auckland)).json()
    assert len(payload["groups"]) == 30


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group": "week"}, "group"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-02-30"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "from"),
        ({"from": "2026-11-01T10:00:00Z", "to": "2026-11-01T10:00:00Z"}, "from"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),
        ({"from": "0001-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "2026-11-01T25:00:00"}, "from"),
    ],
)
def test_bad_parameters_get_400(auth_client, auckland, params, field):
    response = auth_client.get(stats_url(auckland), params)

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_members_get_403_and_outsiders_404(auckland, member_client, api_client):
    member = MembershipFactory(workspace=auckland, role=Role.MEMBER).user
    assert client_for(member).get(stats_url(auckland)).status_code == 403
    assert client_for(MembershipFactory().user).get(stats_url(auckland)).status_code == 404
    assert api_client.get(stats_url(auckland)).status_code == 401


def test_staff_may_read_any_workspace(staff_client, auckland):
    assert staff_client.get(stats_url(auckland)).status_code == 200


def test_two_queries_whatever_the_size(auth_client, auckland, django_assert_max_num_queries):
    for hour in range(20):
        make(auckland, at(f"2026-11-01T{hour:02d}:00:00"), status="failed", last_error=f"code_{hour % 3}: x")
    auth_client.get(stats_url(auckland))  # warm up authentication caches

    with django_assert_max_num_queries(5):  # membership + user + the two stats queries
        response = auth_client.get(stats_url(auckland), {"from": "2026-10-25", "to": "2026-11-05"})
    assert response.json()["totals"]["failed"] == 20


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
def test_the_counting_queries_use_the_workspace_time_index(auckland):
    """GIVEN 4,800 notifications of 8 workspaces over 200 days (statistics up to date)
    WHEN one workspace's stats for 10 days are counted
    THEN the planner reaches its rows through the (workspace, created_at) index, and the failed
    ones through the partial index of failures."""
    workspaces = [auckland, *(WorkspaceFactory() for _ in range(7))]
    rows = [
        Notification(
            workspace=workspace,
            channel="sms",
            recipient="+14155550123",
            body="x",
            status="failed" if n % 7 == 0 else "sent",
            last_error="code: x" if n % 7 == 0 else "",
            idempotency_key=f"plan:{workspace.pk}:{n}",
            created_at=at("2026-05-01T00:00:00") + timedelta(hours=n),
        )
        for workspace in workspaces
        for n in range(0, 4800, 8)
    ]
    Notification.objects.bulk_create(rows)
    query = NotificationStatsQuerySerializer(
        data={"from": "2026-10-01", "to": "2026-10-10"}, context={"workspace": auckland}
    )
    assert query.is_valid(), query.errors
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_notification")
        with CaptureQueriesContext(connection) as queries:
            notification_stats(workspace=auckland, **query.validated_data)
        plans = []
        for captured in queries.captured_queries:
            cursor.execute("EXPLAIN " + captured["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    counting, reasons = plans
    assert "notification_ws_created_idx" in counting, counting
    assert "notification_ws_failed_idx" in reasons, reasons
    assert "Seq Scan" not in counting + reasons
