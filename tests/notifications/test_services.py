import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from birthdaybuddy.errors import Conflict
from notifications import leases, ratelimit, services
from notifications.models import DeliveryAttempt, Notification
from tests.audit_checks import failure_entries
from tests.factories import WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory, NotificationFactory

pytestmark = pytest.mark.django_db

# pytest-django's SQLite test database is in memory with a shared cache, where a concurrent
# writer fails at once ("table is locked") instead of waiting: the races run on PostgreSQL.
needs_concurrent_database = pytest.mark.skipif(
    settings.EMBEDDED, reason="SQLite's in-memory test database cannot take concurrent writers"
)


def unsaved(workspace, key, **fields):
    return Notification(
        workspace=workspace, channel="slack", recipient="webhook", idempotency_key=key, **{"body": "hi", **fields}
    )


# --- notifications_write / notifications_enqueue -----------------------------------------------


def test_write_is_idempotent_per_key(workspace):
    first = services.notifications_write(notifications=[unsaved(workspace, "k1"), unsaved(workspace, "k2")])
    assert len(first) == 2
    assert set(Notification.objects.values_list("pk", flat=True)) == set(first)

    again = services.notifications_write(notifications=[unsaved(workspace, "k1"), unsaved(workspace, "k2")])
    assert again == []

    mixed = services.notifications_write(notifications=[unsaved(workspace, "k2"), unsaved(workspace, "k3")])
    assert len(mixed) == 1
    assert Notification.objects.get(pk=mixed[0]).idempotency_key == "k3"
    assert Notification.objects.count() == 3


def test_write_keeps_the_first_of_duplicate_keys_in_one_call(workspace):
    a, b = unsaved(workspace, "same", body="first"), unsaved(workspace, "same", body="second")
    assert services.notifications_write(notifications=[a, b]) == [a.id]
    assert Notification.objects.get().body == "first"


def test_write_inside_a_rolled_back_transaction_leaves_nothing(workspace):
    def write_then_fail():
        with transaction.atomic():
            services.notifications_write(notifications=[unsaved(workspace, "gone")])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert not Notification.objects.exists()


def test_enqueue_waits_for_commit_and_picks_tasks_by_count(
    workspace, queued, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_BATCH_THRESHOLD = 5
    settings.NOTIFICATIONS_BATCH_SIZE = 4
    few = services.notifications_write(notifications=[unsaved(workspace, f"few{i}") for i in range(2)])
    many = services.notifications_write(notifications=[unsaved(workspace, f"many{i}") for i in range(9)])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notifications_enqueue(notification_ids=few)
        services.notifications_enqueue(notification_ids=many)
    assert queued() == []  # nothing before commit
    for callback in callbacks:
        callback()

    tasks = queued()
    assert [(name, args) for name, args, _ in tasks[:2]] == [("notifications.deliver", [str(pk)]) for pk in few]
    batches = [args[0] for name, args, _ in tasks[2:]]
    assert [name for name, _, _ in tasks[2:]] == ["notifications.deliver_batch"] * 3
    assert [len(batch) for batch in batches] == [4, 4, 1]
    assert [pk for batch in batches for pk in batch] == [str(pk) for pk in many]


# --- the claim --------------------------------------------------------------------------------


@needs_concurrent_database
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_notification_send_once(fake_slack):
    """GIVEN one pending notification and eight workers receiving its task at the same moment
    WHEN they all deliver it
    THEN exactly one wins the claim and Slack receives one post."""
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notification = NotificationFactory(workspace=config.workspace)
    fake_slack.default_delay = 0.2
    barrier = threading.Barrier(8)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(services.notification_deliver(notification_id=notification.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == ["ignored"] * 7 + ["sent"]
    assert len(fake_slack.received) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)


@needs_concurrent_database
@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_claim_each_notification_once(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    ids = [NotificationFactory(workspace=config.workspace).pk for _ in range(20)]
    fake_slack.default_delay = 0.05
    barrier = threading.Barrier(3)
    results = []

    def worker(batch):
        try:
            barrier.wait()
            results.append(services.notifications_deliver_batch(notification_ids=batch))
        finally:
            connections.close_all()

    batches = [ids, list(reversed(ids)), ids[5:15]]
    threads = [threading.Thread(target=worker, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(result.get("sent", 0) for result in results) == 20
    assert len(fake_slack.received) == 20
    assert Notification.objects.filter(status="sent", attempts=1).count() == 20


# --- rate limiting ----------------------------------------------------------------------------


def test_bucket_refuses_the_second_message_within_the_window():
    key = "test:bucket"
    assert ratelimit.reserve(key, rate_per_second=1, max_wait=0) == 0
    wait = ratelimit.reserve(key, rate_per_second=1, max_wait=0)
    assert -1.0 <= wait < 0  # refused, nothing reserved (max_wait 0)
    reserved = ratelimit.reserve(key, rate_per_second=1, max_wait=10)
    assert 0 < reserved <= 1.0  # the next slot is booked
    assert ratelimit.reserve(key, rate_per_second=1, max_wait=10) > reserved  # and the one after


def test_rate_limited_message_waits_for_its_slot_without_counting_an_attempt(
    fake_slack, settings, queued, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    first, second = (NotificationFactory(workspace=config.workspace) for _ in range(2))
    now = timezone.now()

    assert services.notification_deliver(notification_id=first.pk, now=now) == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.notification_deliver(notification_id=second.pk, now=now) == "deferred"

    second.refresh_from_db()
    assert (second.status, second.attempts, second.rate_reserved) == ("pending", 0, True)
    assert now < second.next_attempt_at <= now + timedelta(seconds=1.1)
    assert len(fake_slack.received) == 1
    [(task, args, eta)] = queued()
    assert (task, args) == ("notifications.deliver", [str(second.pk)])
    assert eta

    # At its slot it goes without asking the bucket again.
    assert services.notification_deliver(notification_id=second.pk, now=second.next_attempt_at) == "sent"
    second.refresh_from_db()
    assert (second.attempts, second.rate_reserved) == (1, False)


def test_different_destinations_do_not_share_a_bucket(fake_slack, settings):
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    one = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url + "1")
    two = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url + "2")
    for config in (one, two):
        notification = NotificationFactory(workspace=config.workspace)
        assert services.notification_deliver(notification_id=notification.pk) == "sent"


def test_rate_per_second_of_the_config_is_used(fake_twilio, settings):
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    config = ChannelConfigFactory(
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
        rate_per_second=50,
    )
    results = [
        services.notification_deliver(
            notification_id=NotificationFactory(workspace=config.workspace, channel="sms", recipient="+14155550123").pk
        )
        for _ in range(5)
    ]
    assert results == ["sent"] * 5  # a burst of 50/s fits; the 1/s default would have deferred four


# --- the sweeper ------------------------------------------------------------------------------


def test_sweeper_requeues_pending_the_broker_lost(workspace, queued, django_capture_on_commit_callbacks):
    now = timezone.now()
    lost = NotificationFactory(workspace=workspace, next_attempt_at=now - timedelta(minutes=5))
    recent = NotificationFactory(workspace=workspace, next_attempt_at=now - timedelta(seconds=10))
    future = NotificationFactory(workspace=workspace, next_attempt_at=now + timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.notifications_sweep(now=now)

    assert counts == {"requeued": 1, "reset": 0, "unknown": 0}
    assert [args for _, args, _ in queued()] == [[str(lost.pk)]]
    lost.refresh_from_db()
    assert lost.next_attempt_at == now  # re-queued at most once per grace period
    recent.refresh_from_db()
    future.refresh_from_db()
    assert recent.status == future.status == "pending"


def test_sweeper_settles_sending_rows_whose_worker_died(workspace, settings):
    """Slack/email get one more try (a possible duplicate, recorded); SMS/WhatsApp become unknown;
    a Slack message that already used its retry becomes unknown too."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)

    def sending(channel, **fields):
        return NotificationFactory(
            workspace=workspace, channel=channel, status="sending", attempts=1, updated_at=stale, **fields
        )

    slack = sending("slack")
    email = sending("email", recipient="a@example.com")
    sms = sending("sms", recipient="+14155550123")
    slack_retried = sending("slack", retried_after_unknown=True)
    fresh = NotificationFactory(workspace=workspace, status="sending", attempts=1, updated_at=now)

    counts = services.notifications_sweep(now=now)

    assert counts == {"requeued": 0, "reset": 2, "unknown": 2}
    for notification in (slack, email):
        notification.refresh_from_db()
        assert (notification.status, notification.retried_after_unknown) == ("pending", True)
        assert "may arrive twice" in notification.last_error
    for notification in (sms, slack_retried):
        notification.refresh_from_db()
        assert notification.status == "unknown"
        assert "not retried" in notification.last_error
    fresh.refresh_from_db()
    assert fresh.status == "sending"
    attempt = DeliveryAttempt.objects.get(notification=sms)
    assert (attempt.number, attempt.outcome) == (1, "unknown")
    # Only the rows that ended unknown are audited; the ones retried are not failures (yet).
    assert [e["status"] for e in failure_entries(sms) + failure_entries(slack_retried)] == ["unknown", "unknown"]
    assert failure_entries(slack) == failure_entries(email) == []


def test_reset_row_is_delivered_again_once(fake_slack, settings):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    stale = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    notification = NotificationFactory(workspace=config.workspace, status="sending", attempts=1, updated_at=stale)

    services.notifications_sweep()
    assert services.notification_deliver(notification_id=notification.pk) == "sent"

    notification.refresh_from_db()
    assert notification.attempts == 2
    assert [a.outcome for a in DeliveryAttempt.objects.filter(notification=notification).order_by("number")] == [
        "unknown",
        "success",
    ]


def test_sweeper_never_takes_a_row_whose_worker_still_holds_its_lease(workspace, settings):
    """A live worker waiting (on a slow provider, or on the database during an outage) keeps
    renewing its claim's lease: its rows stay its own however old. A lapsed lease is a dead worker."""
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 30
    now = timezone.now()
    old = now - timedelta(seconds=45)  # past the lease, well before the hard bound
    held_token, dead_token = uuid.uuid4(), uuid.uuid4()

    def sending(updated_at, claim_token):
        return NotificationFactory(
            workspace=workspace, status="sending", attempts=1, updated_at=updated_at, claim_token=claim_token
        )

    held, dead = sending(old, held_token), sending(old, dead_token)
    young = sending(now - timedelta(seconds=5), dead_token)

    with leases.held(held_token):
        counts = services.notifications_sweep(now=now)

    assert counts == {"requeued": 0, "reset": 1, "unknown": 0}
    held.refresh_from_db()
    dead.refresh_from_db()
    young.refresh_from_db()
    assert (held.status, held.claim_token) == ("sending", held_token)
    assert (dead.status, dead.retried_after_unknown) == ("pending", True)
    assert young.status == "sending"  # younger than a lease: its lease may not have been written yet


def test_a_lease_is_renewed_while_held_and_lapses_after(workspace, settings):
    settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = 1
    token = uuid.uuid4()
    with leases.held(token):
        time.sleep(1.6)  # past the first lease: alive only because the keeper renewed it
        assert leases.alive([token]) == {str(token)}
    time.sleep(1.3)
    assert leases.alive([token]) == set()


# --- resend -----------------------------------------------------------------------------------


def test_resend_creates_a_linked_notification_with_a_new_key(workspace, queued, django_capture_on_commit_callbacks):
    failed = NotificationFactory(workspace=workspace, status="failed", last_error="channel_not_found")

    with django_capture_on_commit_callbacks(execute=True):
        resent = services.notification_resend(notification=failed)

    assert resent.pk != failed.pk
    assert resent.idempotency_key == f"resend:{failed.pk}:1"
    assert resent.resent_from_id == failed.pk
    assert (resent.status, resent.attempts, resent.body, resent.recipient) == ("pending", 0, failed.body, "webhook")
    assert [args for _, args, _ in queued()] == [[str(resent.pk)]]


def test_resend_is_refused_while_an_earlier_resend_is_open_and_allowed_after_it_failed(workspace):
    failed = NotificationFactory(workspace=workspace, status="unknown")
    first = services.notification_resend(notification=failed)

    with pytest.raises(Conflict) as excinfo:
        services.notification_resend(notification=failed)
    assert excinfo.value.code == "already_resent"

    Notification.objects.filter(pk=first.pk).update(status="failed")
    second = services.notification_resend(notification=failed)
    assert second.idempotency_key == f"resend:{failed.pk}:2"


@pytest.mark.parametrize("status", ["pending", "sending", "sent", "delivered", "skipped"])
def test_only_failed_or_unknown_can_be_resent(workspace, status):
    notification = NotificationFactory(workspace=workspace, status=status)
    with pytest.raises(Conflict):
        services.notification_resend(notification=notification)
    assert Notification.objects.count() == 1


# --- channel configs --------------------------------------------------------------------------


def test_secrets_are_encrypted_at_rest(workspace):
    config = services.channel_config_create(
        workspace=workspace,
        kind="sms",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+1 415 555 0100",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT auth_token FROM notifications_channelconfig")
        [raw] = cursor.fetchone()
    assert raw
    assert AUTH_TOKEN not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token
    config.refresh_from_db()
    assert config.auth_token == AUTH_TOKEN
    assert config.from_number == "+14155550100"  # stored in E.164


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "slack"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": "https://evil.example/hooks"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": "https://hooks.slack.com.evil.example/x"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": "https://hooks.slack.com@evil.example/x"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": "http://hooks.slack.com/services/x"}, "webhook_url"),
        ({"kind": "slack", "bot_token": "xoxb-1234567890-abcdef"}, "channel_id"),
        ({"kind": "slack", "bot_token": "xoxb-1234567890-abcdef", "channel_id": "#general"}, "channel_id"),
        ({"kind": "email", "reply_to": "nope"}, "reply_to"),
        ({"kind": "email", "from_name": "A\r\nBcc: x@y"}, "from_name"),
        ({"kind": "email", "auth_token": "x"}, "auth_token"),
        ({"kind": "sms", "auth_token": AUTH_TOKEN, "from_number": "+14155550100"}, "account_sid"),
        ({"kind": "sms", "account_sid": ACCOUNT_SID, "from_number": "+14155550100"}, "auth_token"),
        ({"kind": "sms", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}, "from_number"),
        ({"kind": "sms", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "555"}, "from_number"),
        (
            {
                "kind": "sms",
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "from_number": "+14155550100",
                "whatsapp_template_sid": "HX" + "0" * 32,
            },
            "whatsapp_template_sid",
        ),
        ({"kind": "email", "rate_per_second": 0}, "rate_per_second"),
    ],
)
def test_invalid_channel_configs_name_the_field(workspace, fields, field):
    with pytest.raises(ValidationError) as excinfo:
        services.channel_config_create(workspace=workspace, **fields)
    assert field in excinfo.value.message_dict
    assert not workspace.channel_configs.exists()


def test_one_channel_per_kind(workspace):
    services.channel_config_create(workspace=workspace, kind="email")
    with pytest.raises(ValidationError) as excinfo:
        services.channel_config_create(workspace=workspace, kind="email")
    assert "kind" in excinfo.value.message_dict
    services.channel_config_create(workspace=WorkspaceFactory(), kind="email")  # other workspaces may


def test_update_keeps_omitted_secrets_and_clears_with_none(workspace):
    config = services.channel_config_create(
        workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T/B/abcd"
    )
    config = services.channel_config_update(config=config, active=False)
    assert config.webhook_url == "https://hooks.slack.com/services/T/B/abcd"
    config = services.channel_config_update(
        config=config, webhook_url=None, bot_token="xoxb-1234567890-abcdef", channel_id="C0123456789"
    )
    config.refresh_from_db()
    assert (config.webhook_url, config.bot_token) == (None, "xoxb-1234567890-abcdef")
    with pytest.raises(ValidationError):
        services.channel_config_update(config=config, kind="email")
