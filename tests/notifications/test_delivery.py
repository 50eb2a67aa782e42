"""The delivery state machine against fake providers (real slack-sdk, twilio and SMTP clients)."""

import json
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import DeliveryAttempt, Notification
from notifications.services import notification_deliver, notifications_deliver_batch
from tests.audit_checks import failure_entries
from tests.factories import PersonFactory, WorkspaceFactory
from tests.notifications.factories import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    ChannelConfigFactory,
    NotificationFactory,
)
from tests.notifications.fakes import FakeTwilio, Reply

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the single-statement SQL path")


def attempts_of(notification):
    return list(DeliveryAttempt.objects.filter(notification=notification).order_by("number"))


@pytest.fixture
def slack_webhook(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    return config


def slack_notification(config, **fields):
    return NotificationFactory(workspace=config.workspace, channel="slack", recipient="webhook", **fields)


# --- Slack webhook ----------------------------------------------------------------------------


def test_slack_webhook_success(slack_webhook, fake_slack):
    notification = slack_notification(slack_webhook, body="🎂 Today: <@U1>, Bo")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    notification.refresh_from_db()
    assert notification.status == "sent"
    assert notification.attempts == 1
    assert notification.sent_at is not None
    assert notification.claim_token is None
    [received] = fake_slack.received
    assert received.path == fake_slack.webhook_path
    assert received.body["text"] == "🎂 Today: <@U1>, Bo"
    [attempt] = attempts_of(notification)
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "success", 200)


def test_slack_429_honours_retry_after_then_succeeds(slack_webhook, fake_slack):
    """GIVEN Slack answers 429 with Retry-After: 3
    WHEN the notification is delivered
    THEN it goes back to pending for 3 s (not counted as failed), a task arriving early waits,
    and the next try at the right time is sent."""
    fake_slack.script(Reply(429, "rate_limited", headers={"Retry-After": "3"}))
    notification = slack_notification(slack_webhook)
    t0 = timezone.now()

    assert notification_deliver(notification_id=notification.pk, now=t0) == "retry"

    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.last_error == "rate_limited"
    assert t0 + timedelta(seconds=3) <= notification.next_attempt_at <= t0 + timedelta(seconds=3.5)
    assert notification_deliver(notification_id=notification.pk, now=t0 + timedelta(seconds=1)) == "not_due"
    assert len(fake_slack.received) == 1

    assert notification_deliver(notification_id=notification.pk, now=notification.next_attempt_at) == "sent"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 2)
    first, second = attempts_of(notification)
    assert (first.outcome, first.status_code, first.error) == ("transient", 429, "rate_limited (Retry-After 3s)")
    assert second.outcome == "success"
    assert len(fake_slack.received) == 2


def test_slack_500_retried_with_backoff_then_failed(slack_webhook, fake_slack, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    settings.NOTIFICATIONS_RETRY_BASE_SECONDS = 4
    fake_slack.script(*[Reply(500, "internal_error")] * 3)
    notification = slack_notification(slack_webhook)
    now = timezone.now()
    delays = []

    for _ in range(2):
        assert notification_deliver(notification_id=notification.pk, now=now) == "retry"
        notification.refresh_from_db()
        delays.append((notification.next_attempt_at - now).total_seconds())
        now = notification.next_attempt_at
    assert notification_deliver(notification_id=notification.pk, now=now) == "failed"

    assert 2 <= delays[0] <= 4
    assert 4 <= delays[1] <= 8
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.attempts == 3
    assert notification.last_error == "gave up after 3 attempts: HTTP 500: internal_error"
    assert [a.outcome for a in attempts_of(notification)] == ["transient"] * 3
    assert len(fake_slack.received) == 3
    assert [entry["status"] for entry in failure_entries(notification)] == ["failed"]  # once, at the end


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, "channel_not_found"), (410, "channel_is_archived"), (403, "invalid_token"), (400, "invalid_payload")],
)
def test_slack_permanent_errors_fail_at_once(slack_webhook, fake_slack, status, body):
    fake_slack.script(Reply(status, body))
    notification = slack_notification(slack_webhook)

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.last_error) == ("failed", 1, body)
    [attempt] = attempts_of(notification)
    assert (attempt.outcome, attempt.status_code) == ("permanent", status)
    # Workspace admins find it in the audit log, where it can be replayed.
    assert failure_entries(notification) == [{"status": "failed", "channel": "slack", "error": body}]


def test_slack_timeout_is_retried_once_then_unknown(slack_webhook, fake_slack):
    """A timeout may have posted the message: Slack gets exactly one more try, recorded as a
    possible duplicate; a second timeout ends in ``unknown`` instead of a third post."""
    fake_slack.script(Reply(delay=1.5), Reply(delay=1.5))
    notification = slack_notification(slack_webhook)
    now = timezone.now()

    assert notification_deliver(notification_id=notification.pk, now=now) == "retry"
    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.retried_after_unknown is True
    assert "may arrive twice" in notification.last_error

    assert notification_deliver(notification_id=notification.pk, now=notification.next_attempt_at) == "unknown"
    notification.refresh_from_db()
    assert notification.status == "unknown"
    assert notification.attempts == 2
    assert "timed out" in notification.last_error
    assert [a.outcome for a in attempts_of(notification)] == ["unknown", "unknown"]
    assert len(fake_slack.received) == 2


def test_redirect_is_not_followed(slack_webhook, fake_slack):
    fake_slack.script(Reply(302, "", headers={"Location": fake_slack.url + "/internal/admin"}))
    notification = slack_notification(slack_webhook)

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.last_error.startswith("redirect_refused")
    assert [r.path for r in fake_slack.received] == [fake_slack.webhook_path]


def test_webhook_prefix_is_checked_again_at_send_time(slack_webhook, fake_slack, settings):
    notification = slack_notification(slack_webhook)
    settings.SLACK_WEBHOOK_URL_PREFIXES = ["https://hooks.slack.com/"]  # the allow-list changed since saving

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.last_error.startswith("webhook_url_not_allowed")
    assert fake_slack.received == []


# --- Slack bot --------------------------------------------------------------------------------


@pytest.fixture
def slack_bot(fake_slack):
    return ChannelConfigFactory(kind="slack", webhook_url=None, bot_token=BOT_TOKEN, channel_id="C0123456789")


def test_slack_bot_posts_with_chat_post_message(slack_bot, fake_slack):
    notification = NotificationFactory(workspace=slack_bot.workspace, channel="slack", recipient="C0123456789")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_slack.received
    assert received.path == "/api/chat.postMessage"
    assert received.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert received.body["channel"] == "C0123456789"
    notification.refresh_from_db()
    assert notification.provider_message_id  # the message ts


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "token_revoked", "invalid_auth"])
def test_slack_bot_ok_false_is_permanent(slack_bot, fake_slack, error):
    fake_slack.script(Reply(200, {"ok": False, "error": error}))
    notification = NotificationFactory(workspace=slack_bot.workspace, channel="slack", recipient="C0123456789")

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.last_error == error


def test_slack_bot_ratelimited_honours_retry_after(slack_bot, fake_slack):
    fake_slack.script(Reply(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "7"}))
    notification = NotificationFactory(workspace=slack_bot.workspace, channel="slack", recipient="C0123456789")
    t0 = timezone.now()

    assert notification_deliver(notification_id=notification.pk, now=t0) == "retry"

    notification.refresh_from_db()
    assert notification.next_attempt_at >= t0 + timedelta(seconds=7)


# --- Twilio SMS / WhatsApp --------------------------------------------------------------------


@pytest.fixture
def sms_config(fake_twilio):
    return ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100"
    )


def sms(config, **fields):
    return NotificationFactory(workspace=config.workspace, channel="sms", recipient="+14155550123", **fields)


def test_sms_success(sms_config, fake_twilio):
    notification = sms(sms_config, body="Happy birthday, Ana!")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_twilio.received
    assert received.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert received.body == {"To": "+14155550123", "From": "+14155550100", "Body": "Happy birthday, Ana!"}
    assert received.headers["Authorization"].startswith("Basic ")
    notification.refresh_from_db()
    assert notification.provider_message_id.startswith("SM")


@pytest.mark.parametrize(
    ("reply", "status", "error_part"),
    [
        (FakeTwilio.error(400, 21211, "The 'To' number is not a valid phone number."), "failed", "invalid_to_number"),
        (FakeTwilio.error(400, 21610, "Attempt to send to unsubscribed recipient"), "failed", "recipient_unsubscribed"),
        (FakeTwilio.error(429, 20429, "Too Many Requests"), "pending", "rate_limited"),
        (FakeTwilio.error(500, 20500, "Internal Server Error"), "unknown", "may have been sent"),
    ],
)
def test_sms_errors(sms_config, fake_twilio, reply, status, error_part):
    fake_twilio.script(reply)
    notification = sms(sms_config)

    notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.status == status
    assert error_part in notification.last_error
    assert len(fake_twilio.received) == 1


def test_sms_timeout_is_unknown_and_never_retried(sms_config, fake_twilio):
    fake_twilio.script(Reply(delay=1.5))
    notification = sms(sms_config)

    assert notification_deliver(notification_id=notification.pk) == "unknown"

    notification.refresh_from_db()
    assert notification.status == "unknown"
    assert "not retried" in notification.last_error
    assert notification_deliver(notification_id=notification.pk) == "ignored"
    assert len(fake_twilio.received) == 1


def test_sms_through_a_messaging_service(fake_twilio):
    config = ChannelConfigFactory(
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        messaging_service_sid="MG" + "b2" * 16,
    )
    notification = sms(config)

    assert notification_deliver(notification_id=notification.pk) == "sent"

    body = fake_twilio.received[0].body
    assert body["MessagingServiceSid"] == "MG" + "b2" * 16
    assert "From" not in body


@pytest.fixture
def whatsapp_config(fake_twilio):
    return ChannelConfigFactory(
        kind="whatsapp",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
        whatsapp_template_sid="HX" + "c3" * 16,
    )


def test_whatsapp_uses_the_approved_template(whatsapp_config, fake_twilio):
    notification = NotificationFactory(
        workspace=whatsapp_config.workspace, channel="whatsapp", recipient="+14155550123", body="Hi Ana"
    )

    assert notification_deliver(notification_id=notification.pk) == "sent"

    body = fake_twilio.received[0].body
    assert body["To"] == "whatsapp:+14155550123"
    assert body["From"] == "whatsapp:+14155550100"
    assert body["ContentSid"] == "HX" + "c3" * 16
    assert json.loads(body["ContentVariables"]) == {"1": "Hi Ana"}
    assert "Body" not in body


def test_whatsapp_outside_session_window_is_permanent(whatsapp_config, fake_twilio):
    fake_twilio.script(FakeTwilio.error(400, 63016, "Failed to send freeform message outside the window"))
    notification = NotificationFactory(
        workspace=whatsapp_config.workspace, channel="whatsapp", recipient="+14155550123"
    )

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert "outside_whatsapp_session_window" in notification.last_error


# --- Email ------------------------------------------------------------------------------------


@pytest.fixture
def email_config(smtp_server):
    return ChannelConfigFactory(kind="email", webhook_url=None, from_name="Acme People Team", reply_to="hr@acme.test")


def test_email_success_with_sender_name_reply_to_and_html(email_config, smtp_server):
    notification = NotificationFactory(
        workspace=email_config.workspace,
        channel="email",
        recipient="ana@example.com",
        subject="Happy birthday, Ana!",
        body="Dear Ana,\n\nHappy birthday <3",
    )

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [envelope] = smtp_server.messages
    assert envelope.mail_from == "no-reply@birthdaybuddy.test"
    assert envelope.rcpt_tos == ["ana@example.com"]
    raw = envelope.content.decode()
    assert "From: Acme People Team via BirthdayBuddy <no-reply@birthdaybuddy.test>" in raw
    assert "Reply-To: hr@acme.test" in raw
    assert "Subject: Happy birthday, Ana!" in raw
    assert "text/plain" in raw
    assert "text/html" in raw
    assert "Happy birthday &lt;3" in raw  # the HTML part escapes the text
    notification.refresh_from_db()
    assert notification.provider_message_id.startswith("<")
    assert notification.provider_message_id in raw


@pytest.mark.parametrize(
    ("reply", "status"),
    [("550 5.1.1 No such user", "failed"), ("451 4.3.0 Try again later", "pending")],
)
def test_email_refusals(email_config, smtp_server, reply, status):
    smtp_server.refuse["nobody@example.com"] = reply
    notification = NotificationFactory(
        workspace=email_config.workspace, channel="email", recipient="nobody@example.com"
    )

    notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.status == status
    assert reply.split()[0] in notification.last_error


def test_email_server_down_is_transient(email_config, settings):
    settings.EMAIL_PORT = 9  # nothing listens there
    notification = NotificationFactory(workspace=email_config.workspace, channel="email", recipient="a@example.com")

    assert notification_deliver(notification_id=notification.pk) == "retry"

    notification.refresh_from_db()
    assert "could not connect" in notification.last_error


# --- Routing, opt-out, fallbacks --------------------------------------------------------------


def test_no_config_fails_with_channel_not_configured():
    notification = NotificationFactory(channel="sms", recipient="+14155550123")

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.last_error == "channel_not_configured"
    [attempt] = attempts_of(notification)
    assert attempt.outcome == "permanent"


def test_inactive_config_counts_as_not_configured(slack_webhook, fake_slack):
    slack_webhook.active = False
    slack_webhook.save()
    notification = slack_notification(slack_webhook)

    assert notification_deliver(notification_id=notification.pk) == "failed"
    assert fake_slack.received == []


def test_console_fallback_writes_the_outbox(settings):
    settings.NOTIFICATIONS_CONSOLE_FALLBACK = True
    notification = NotificationFactory(channel="sms", recipient="+14155550123", body="Hello outbox")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [outbox_file] = list(settings.NOTIFICATIONS_OUTBOX_DIR.glob("*.jsonl"))
    [line] = outbox_file.read_text().splitlines()
    record = json.loads(line)
    assert (record["notification_id"], record["channel"], record["recipient"], record["body"]) == (
        str(notification.pk),
        "sms",
        "+14155550123",
        "Hello outbox",
    )


def test_opted_out_person_is_skipped_without_a_send(slack_webhook, fake_slack):
    person = PersonFactory(workspace=slack_webhook.workspace, opted_out_channels=["slack"])
    notification = slack_notification(slack_webhook, person=person)

    assert notification_deliver(notification_id=notification.pk) == "skipped"

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("skipped", 0)
    assert fake_slack.received == []


# --- Claims -----------------------------------------------------------------------------------


def test_a_second_delivery_of_the_same_notification_does_nothing(slack_webhook, fake_slack):
    notification = slack_notification(slack_webhook)

    assert notification_deliver(notification_id=notification.pk) == "sent"
    assert notification_deliver(notification_id=notification.pk) == "ignored"  # e.g. a redelivered task

    assert len(fake_slack.received) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_unknown_id_is_ignored():
    assert notification_deliver(notification_id="6f1c1e3a-0000-4000-8000-000000000000") == "ignored"


def test_a_task_arriving_early_is_queued_again_for_its_time(
    slack_webhook, fake_slack, queued, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(hours=2)
    notification = slack_notification(slack_webhook, next_attempt_at=later)

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_deliver(notification_id=notification.pk) == "not_due"

    [(task, args, eta)] = queued()
    assert (task, args) == ("notifications.deliver", [str(notification.pk)])
    # Never a long countdown (Redis visibility timeout): at most NOTIFICATIONS_MAX_COUNTDOWN_SECONDS.
    assert eta is not None
    assert eta < (timezone.now() + timedelta(seconds=301)).isoformat()


def test_transient_failure_queues_a_retry_with_a_short_countdown(
    slack_webhook, fake_slack, queued, django_capture_on_commit_callbacks
):
    fake_slack.script(Reply(503, "unavailable"))
    notification = slack_notification(slack_webhook)

    with django_capture_on_commit_callbacks(execute=True):
        notification_deliver(notification_id=notification.pk)

    [(task, args, eta)] = queued()
    assert (task, args) == ("notifications.deliver", [str(notification.pk)])
    assert eta is not None


# --- Batches ----------------------------------------------------------------------------------


def test_batch_delivers_everything_concurrently_with_few_queries(
    fake_slack, fake_twilio, smtp_server, django_assert_max_num_queries, settings
):
    settings.SLACK_TIMEOUT_SECONDS = 10  # a loaded machine must not turn slow posts into timeouts here
    # One record group for the whole batch (groups have their own test): the queries of one
    # claim and one record, whatever the channels.
    settings.NOTIFICATIONS_BATCH_RECORD_GROUP = 50
    settings.NOTIFICATIONS_BATCH_RECORD_DELAY_SECONDS = 30
    webhooks = [ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url + str(i)) for i in range(3)]
    notifications = [slack_notification(config) for config in webhooks for _ in range(10)]
    sms_config = ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number="+14155550100"
    )
    notifications.append(sms(sms_config))
    email_config = ChannelConfigFactory(kind="email", webhook_url=None)
    notifications.append(NotificationFactory(workspace=email_config.workspace, channel="email", recipient="a@b.test"))
    fake_slack.default_delay = 0.2  # 30 posts in well under 30 x 0.2 s: they run concurrently

    started = timezone.now()
    with django_assert_max_num_queries(12):
        counts = notifications_deliver_batch(notification_ids=[n.pk for n in notifications])
    elapsed = (timezone.now() - started).total_seconds()

    assert counts == {"sent": 32}
    assert elapsed < 5  # one after another, the 30 posts alone would take 6 s
    assert Notification.objects.filter(status="sent").count() == 32
    assert DeliveryAttempt.objects.filter(outcome="success").count() == 32
    assert len(fake_slack.received) == 30
    # Each webhook got its own ten messages (its client is a copy of one per session, URL replaced).
    by_path: dict[str, set] = {}
    for item in fake_slack.received:
        by_path.setdefault(item.path, set()).add(item.body["text"])
    expected: dict[str, set] = {}
    for notification in notifications[:30]:
        config = next(c for c in webhooks if c.workspace_id == notification.workspace_id)
        expected.setdefault(urlsplit(config.webhook_url).path, set()).add(notification.body)
    assert by_path == expected
    assert all(item.headers["User-Agent"].startswith("Python/") for item in fake_slack.received)
    assert len(fake_twilio.received) == 1
    assert len(smtp_server.messages) == 1


@on_postgresql
def test_a_sent_message_costs_two_statements_and_no_transaction(slack_webhook, fake_slack):
    """The claim reads everything the send needs; the success is recorded with its attempt in one go."""
    person = PersonFactory(workspace=slack_webhook.workspace, opted_out_channels=["sms"])
    notification = slack_notification(slack_webhook, person=person)

    with CaptureQueriesContext(connection) as queries:
        assert notification_deliver(notification_id=notification.pk) == "sent"

    statements = [query["sql"].split(None, 1)[0].upper() for query in queries.captured_queries]
    assert statements == ["WITH", "WITH"]  # no SELECT of the config, no BEGIN/COMMIT
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.claim_token) == ("sent", 1, None)
    [attempt] = attempts_of(notification)
    assert (attempt.outcome, attempt.status_code) == ("success", 200)


@on_postgresql
def test_batch_statements_grow_with_record_groups_not_messages(fake_slack, settings):
    """A claim and a record per group of outcomes, whatever the messages; a small batch is one of each."""
    settings.SLACK_TIMEOUT_SECONDS = 10
    settings.NOTIFICATIONS_BATCH_RECORD_GROUP = 10
    settings.NOTIFICATIONS_BATCH_RECORD_DELAY_SECONDS = 30  # groups close by size (or at the end) only
    webhooks = [ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url + str(i)) for i in range(4)]
    person = PersonFactory(workspace=webhooks[0].workspace)

    def statements_for(count: int) -> int:
        notifications = [
            slack_notification(webhooks[i % len(webhooks)], person=person if i % len(webhooks) == 0 else None)
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            assert notifications_deliver_batch(notification_ids=[n.pk for n in notifications]) == {"sent": count}
        return len(queries.captured_queries)

    assert statements_for(4) == 2
    assert 2 <= statements_for(40) <= 1 + 4  # one claim (40 fit the window), at most one record per 10
    assert DeliveryAttempt.objects.filter(outcome="success").count() == 44


def test_batch_holds_at_most_its_window_of_claims(fake_slack, settings):
    """Claims follow records: never more than NOTIFICATIONS_BATCH_IN_FLIGHT rows claimed (and
    provider calls open) at once, so a kill can leave no more than that in ``sending``."""
    settings.NOTIFICATIONS_BATCH_IN_FLIGHT = 4
    settings.NOTIFICATIONS_BATCH_RECORD_GROUP = 2
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notifications = [slack_notification(config, body=f"windowed {n}") for n in range(12)]
    fake_slack.default_delay = 0.05

    counts = notifications_deliver_batch(notification_ids=[n.pk for n in notifications])

    assert counts == {"sent": 12}
    assert sorted(fake_slack.texts()) == sorted(n.body for n in notifications)
    assert fake_slack.max_in_flight == 4  # full, and never more


def test_batch_records_each_outcome_at_its_own_time_beside_a_hung_webhook(fake_slack, settings):
    """GIVEN a batch where one webhook hangs past the client timeout
    THEN its batch-mates are recorded ``sent`` as they are answered, not when the hung one gives
    up, and the hung one alone waits (outcome unknown: retried once, marked)."""
    settings.SLACK_TIMEOUT_SECONDS = 1
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notifications = [slack_notification(config, body=f"mate {n}") for n in range(8)]
    fake_slack.script(Reply(delay=2.0))  # the first post to arrive hangs
    started = timezone.now()

    counts = notifications_deliver_batch(notification_ids=[n.pk for n in notifications])

    assert counts == {"sent": 7, "retry": 1}
    hung = Notification.objects.get(status="pending")
    assert hung.retried_after_unknown
    assert "may arrive twice" in hung.last_error
    sent_after = [(n.sent_at - started).total_seconds() for n in Notification.objects.filter(status="sent")]
    assert len(sent_after) == 7
    assert max(sent_after) < 0.8, sent_after  # recorded before the hung post's 1 s timeout


def test_batch_mixes_outcomes_and_skips_taken_ones(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    ok, failing, already_sent = (slack_notification(config) for _ in range(3))
    Notification.objects.filter(pk=already_sent.pk).update(status="sent")
    fake_slack.script(Reply(404, "channel_not_found"))  # whichever goes first fails

    counts = notifications_deliver_batch(notification_ids=[ok.pk, failing.pk, already_sent.pk])

    assert counts == {"sent": 1, "failed": 1, "ignored": 1}
    assert len(fake_slack.received) == 2


def test_workspace_without_config_in_a_batch_fails_alone(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    good = slack_notification(config)
    orphan = NotificationFactory(workspace=WorkspaceFactory(), channel="slack", recipient="webhook")

    counts = notifications_deliver_batch(notification_ids=[good.pk, orphan.pk])

    assert counts == {"sent": 1, "failed": 1}


def test_batch_async_webhook_path_classifies_like_the_single_path(fake_slack):
    """Batches post webhooks through slack-sdk's async client: the same outcomes, redirects refused."""
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notifications = [slack_notification(config, body=f"batch {n}") for n in range(4)]
    fake_slack.script(
        Reply(302, "", headers={"Location": fake_slack.url + "/internal"}),
        Reply(404, "channel_not_found"),
        Reply(429, "rate_limited", headers={"Retry-After": "2"}),
        Reply(delay=1.5),
    )

    counts = notifications_deliver_batch(notification_ids=[n.pk for n in notifications])

    assert counts == {"failed": 2, "retry": 2}
    errors = sorted(Notification.objects.values_list("last_error", flat=True))
    assert errors[0] == "channel_not_found"
    assert errors[1] == "rate_limited"
    assert errors[2].startswith("redirect_refused")
    assert "timed out" in errors[3]
    assert "/internal" not in [r.path for r in fake_slack.received]


def test_a_large_batch_never_times_out_waiting_for_a_connection(fake_slack, settings):
    """More webhook posts than the per-host connection pool holds: the ones waiting for a free
    connection have sent nothing, so their wait must not count against Slack's answer time
    (it would turn unsent messages into "outcome unknown", retried as possible duplicates)."""
    settings.SLACK_TIMEOUT_SECONDS = 2
    configs = [ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url + str(i)) for i in range(110)]
    notifications = [slack_notification(config) for config in configs]
    fake_slack.default_delay = 1.2  # two waits in the pool + one answer would exceed 2 s

    counts = notifications_deliver_batch(notification_ids=[n.pk for n in notifications])

    assert counts == {"sent": 110}
    assert len(fake_slack.received) == 110


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_batch_records_its_outcomes_through_a_lost_database_connection(fake_slack):
    """GIVEN a batch whose database connection is cut (as by a server restart or a failover)
    while its posts are in flight
    THEN it reconnects and records every outcome: each message once at Slack, every row
    ``sent`` with one attempt, none marked as a possible duplicate."""
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notifications = [slack_notification(config, body=f"cut {n}") for n in range(6)]
    fake_slack.default_delay = 0.5
    connection.ensure_connection()
    backend = connection.connection.info.backend_pid

    def cut() -> None:
        time.sleep(0.2)
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        finally:
            connections.close_all()

    cutter = threading.Thread(target=cut)
    cutter.start()
    counts = notifications_deliver_batch(notification_ids=[n.pk for n in notifications])
    cutter.join()

    assert counts == {"sent": 6}, list(Notification.objects.values_list("last_error", flat=True))
    assert sorted(fake_slack.texts()) == sorted(n.body for n in notifications)
    assert connection.connection.info.backend_pid != backend  # it did reconnect
    rows = Notification.objects.filter(pk__in=[n.pk for n in notifications])
    assert {(n.status, n.attempts, n.retried_after_unknown) for n in rows} == {("sent", 1, False)}
    assert DeliveryAttempt.objects.filter(notification__in=rows, outcome="success").count() == 6
