"""Send rates: bad values are refused on save, and a limiter that cannot answer delays sends, never skips them."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from birthdaybuddy import ratelimit
from notifications.models import ChannelConfig
from notifications.services import notification_deliver
from tests.notifications.factories import ChannelConfigFactory, NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rate", [1e-300, 0.001, 0, -1, 100.5, 1e308])
def test_a_rate_the_limiter_cannot_use_is_refused_on_save(auth_client, workspace, rate):
    url = f"/api/v1/workspaces/{workspace.pk}/channels/"

    response = auth_client.post(url, {"kind": "email", "rate_per_second": rate}, format="json")

    assert response.status_code == 400, response.content
    assert "rate_per_second" in response.json()["errors"]
    assert not ChannelConfig.objects.exists()


def test_the_database_refuses_an_unusable_rate_too(workspace):
    config = ChannelConfigFactory(workspace=workspace, webhook_url="https://hooks.slack.com/services/T/B/x")
    # SQLite stores NaN as NULL (no rate: the provider's default), so NaN is PostgreSQL's case only.
    rates = (1e-300, 1000.0, float("nan")) if connection.vendor == "postgresql" else (1e-300, 1000.0)
    for rate in rates:
        with pytest.raises(IntegrityError), transaction.atomic():
            ChannelConfig.objects.filter(pk=config.pk).update(rate_per_second=rate)


def test_a_usable_rate_is_kept(auth_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/channels/"

    response = auth_client.post(url, {"kind": "email", "rate_per_second": 0.5}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["rate_per_second"] == 0.5


def test_a_limiter_error_delays_the_send_instead_of_bypassing_the_limit(
    fake_slack, settings, queued, django_capture_on_commit_callbacks
):
    """GIVEN a destination whose rate the limiter cannot work with (its script would fail)
    WHEN the notification is delivered THEN nothing is sent: it waits and is queued again."""
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    settings.NOTIFICATIONS_DEFAULT_RATES = {"slack": 1e-300}
    settings.NOTIFICATIONS_RATE_LIMITER_RETRY_SECONDS = 20
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)
    notification = NotificationFactory(workspace=config.workspace, channel="slack", recipient="webhook")
    queued()
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        outcome = notification_deliver(notification_id=notification.pk, now=now)

    notification.refresh_from_db()
    assert fake_slack.received == []
    assert outcome != "sent"
    assert notification.status == "pending"
    assert notification.attempts == 0
    assert notification.next_attempt_at == now + timedelta(seconds=20)
    assert [args for _task, args, _eta in queued()] == [[str(notification.pk)]]


def test_the_api_throttles_still_let_requests_through_when_the_limiter_fails():
    assert ratelimit.reserve("test:bad-rate", rate_per_second=float("nan"), max_wait=0) == 0.0
    with pytest.raises(ratelimit.RateLimiterUnavailable):
        ratelimit.reserve("test:bad-rate", rate_per_second=float("nan"), max_wait=0, fail_open=False)
