"""Microsoft Teams and Google Chat webhooks: delivery through the outbox to local fakes, the
payloads and their escaping, the mapping of answers to our outcomes, and the send rates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import DeliveryAttempt, Notification
from notifications.providers import provider_for
from notifications.providers.base import Message
from notifications.providers.chat_webhooks import google_chat_payload, teams_escape
from notifications.services import notification_deliver, notifications_deliver_batch
from tests.factories import WorkspaceFactory
from tests.notifications.factories import ChannelConfigFactory, NotificationFactory
from tests.notifications.fakes import Reply

pytestmark = pytest.mark.django_db

HOSTILE = (
    "**Ana** <at>Bo</at> <users/all> <!channel> *bold* _it_ ~x~ `c` [click](https://evil.example) "
    "{{DATE(2026-01-01T00:00:00Z, SHORT)}} & co"
)


@pytest.fixture
def teams(fake_teams):
    return ChannelConfigFactory(kind="teams", webhook_url=fake_teams.workflow_url())


@pytest.fixture
def gchat(fake_google_chat):
    return ChannelConfigFactory(kind="gchat", webhook_url=fake_google_chat.webhook_url())


@pytest.fixture(params=["teams", "gchat"])
def chat(request, fake_teams, fake_google_chat):
    """Either kind with its fake: ``(config, fake)``."""
    if request.param == "teams":
        return ChannelConfigFactory(kind="teams", webhook_url=fake_teams.webhook_url()), fake_teams
    return ChannelConfigFactory(kind="gchat", webhook_url=fake_google_chat.webhook_url()), fake_google_chat


def notification_for(config, **fields):
    return NotificationFactory(workspace=config.workspace, channel=config.kind, recipient="webhook", **fields)


def attempts_of(notification):
    return list(DeliveryAttempt.objects.filter(notification=notification).order_by("number"))


# --- payloads and escaping ----------------------------------------------------------------------


def test_teams_gets_an_adaptive_card_whose_text_is_escaped(teams, fake_teams):
    notification = notification_for(teams, body=f"🎂 Today: {HOSTILE}\n\n- not a list\n1. not a list either")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_teams.received
    assert received.body["type"] == "message"
    [attachment] = received.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert "entities" not in card["msteams"]  # no mention can be built
    first, second, third = card["body"]
    assert first["text"] == "🎂 Today: " + teams_escape(HOSTILE)
    for markup in ("**Ana**", "<at>", "[click]", "{{DATE", "*bold*", "_it_", "`c`"):
        assert markup not in first["text"]
    assert r"\*\*Ana\*\*" in first["text"]
    assert r"\<at\>Bo\</at\>" in first["text"]
    assert (second["text"], second["spacing"]) == (r"\- not a list", "Medium")
    assert third["text"] == r"1\. not a list either"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    [attempt] = attempts_of(notification)
    assert (attempt.outcome, attempt.status_code) == ("success", 202)


def test_teams_escape_keeps_plain_text_plain():
    assert teams_escape("Happy birthday, Zoë and Jean-Luc! 🎉") == r"Happy birthday, Zoë and Jean-Luc\! 🎉"
    assert teams_escape(r"a\b") == r"a\\b"


def test_google_chat_gets_a_card_with_html_escaped_text(gchat, fake_google_chat):
    notification = notification_for(gchat, body=f"🎂 Today: {HOSTILE}\nsecond line")

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_google_chat.received
    assert "/messages?key=" in received.path
    [text] = fake_google_chat.texts()
    assert text.startswith("🎂 Today: **Ana** &lt;at&gt;Bo&lt;/at&gt; &lt;users/all&gt; &lt;!channel&gt;")
    assert "&amp; co<br>second line" in text
    assert "<users/" not in text
    assert "<at>" not in text
    assert "text" not in received.body  # no text message: its markup cannot be escaped
    preview = received.body["fallbackText"]
    assert not set(preview) & set("<>*_~`")
    assert "users/all" in preview  # shown as words, never as a mention
    notification.refresh_from_db()
    assert notification.provider_message_id.startswith("spaces/")
    assert "/messages/" in notification.provider_message_id


def test_google_chat_payload_of_an_empty_line_message():
    payload = google_chat_payload(Message(notification_id="x", channel="gchat", recipient="webhook", body="a\n\nb"))
    assert payload["cardsV2"][0]["card"]["sections"][0]["widgets"][0]["textParagraph"]["text"] == "a<br><br>b"
    assert payload["fallbackText"] == "a"


# --- answers mapped to outcomes -----------------------------------------------------------------


def test_429_honours_retry_after_then_succeeds(chat):
    config, fake = chat
    fake.script(Reply(429, "Too Many Requests", headers={"Retry-After": "3"}))
    notification = notification_for(config)
    t0 = timezone.now()

    assert notification_deliver(notification_id=notification.pk, now=t0) == "retry"

    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == ("pending", "rate_limited")
    assert t0 + timedelta(seconds=3) <= notification.next_attempt_at <= t0 + timedelta(seconds=3.5)
    assert notification_deliver(notification_id=notification.pk, now=notification.next_attempt_at) == "sent"
    assert len(fake.received) == 2
    assert [a.outcome for a in attempts_of(notification)] == ["transient", "success"]


def test_5xx_is_retried_with_backoff(chat):
    config, fake = chat
    fake.script(Reply(503, {"error": {"code": 503, "message": "The service is unavailable.", "status": "UNAVAILABLE"}}))
    notification = notification_for(config)
    now = timezone.now()

    assert notification_deliver(notification_id=notification.pk, now=now) == "retry"

    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.last_error.startswith("HTTP 503")
    assert notification.next_attempt_at > now
    assert notification_deliver(notification_id=notification.pk, now=notification.next_attempt_at) == "sent"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(400, {"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}),
            "invalid_payload: INVALID_ARGUMENT: Invalid JSON payload",
        ),
        (Reply(400, "Bad payload received by generic incoming webhook."), "invalid_payload: Bad payload received"),
        (Reply(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "no"}}), "webhook_forbidden"),
        (Reply(404, ""), "webhook_not_found"),
        (
            Reply(404, {"error": {"code": "WorkflowTriggerIsNotEnabled", "message": "disabled"}}),
            "webhook_not_found: WorkflowTriggerIsNotEnabled: disabled",
        ),
        (Reply(413, ""), "message_too_long"),
        (Reply(418, "teapot"), "http_418: teapot"),
        (Reply(302, "", headers={"Location": "http://169.254.169.254/"}), "redirect_refused"),
    ],
)
def test_4xx_and_redirects_fail_at_once_with_a_readable_reason(chat, reply, reason):
    config, fake = chat
    fake.script(reply)
    notification = notification_for(config)

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.attempts == 1
    assert notification.last_error.startswith(reason)
    assert len(fake.received) == 1  # the redirect was not followed
    [attempt] = attempts_of(notification)
    assert attempt.outcome == "permanent"


def test_a_legacy_teams_connector_refusing_with_http_200_is_not_sent(fake_teams):
    config = ChannelConfigFactory(kind="teams", webhook_url=fake_teams.webhook_url())
    fake_teams.script(
        Reply(200, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429")
    )
    notification = notification_for(config)

    assert notification_deliver(notification_id=notification.pk) == "retry"

    notification.refresh_from_db()
    assert (notification.status, notification.last_error) == ("pending", "rate_limited")


def test_timeout_is_retried_once_then_unknown(chat):
    """A timeout may have posted: one more try, recorded as a possible duplicate, then ``unknown``."""
    config, fake = chat
    fake.script(Reply(delay=1.5), Reply(delay=1.5))
    notification = notification_for(config)

    assert notification_deliver(notification_id=notification.pk) == "retry"
    notification.refresh_from_db()
    assert notification.retried_after_unknown is True

    assert notification_deliver(notification_id=notification.pk, now=notification.next_attempt_at) == "unknown"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("unknown", 2)
    assert "timed out" in notification.last_error
    assert len(fake.received) == 2


def test_a_refused_connection_is_transient(settings, fake_teams):
    closed = "http://127.0.0.1:9/webhookb2/x"  # the discard port: nothing listens
    settings.TEAMS_WEBHOOK_EXTRA_URL_PREFIXES = ["http://127.0.0.1:9/"]
    config = ChannelConfigFactory(kind="teams", webhook_url=closed)
    notification = notification_for(config)

    assert notification_deliver(notification_id=notification.pk) == "retry"

    notification.refresh_from_db()
    assert "could not connect" in notification.last_error
    assert notification.retried_after_unknown is False


def test_the_allow_list_is_checked_again_at_send_time(chat, settings):
    config, fake = chat
    notification = notification_for(config)
    settings.TEAMS_WEBHOOK_EXTRA_URL_PREFIXES = []
    settings.GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES = []

    assert notification_deliver(notification_id=notification.pk) == "failed"

    notification.refresh_from_db()
    assert notification.last_error.startswith("webhook_url_not_allowed: The webhook URL must start with https://")
    assert fake.received == []


def test_a_batch_delivers_to_both_through_the_worker_pool(teams, gchat, fake_teams, fake_google_chat):
    rows = [notification_for(teams) for _ in range(3)] + [notification_for(gchat) for _ in range(3)]

    counts = notifications_deliver_batch(notification_ids=[row.pk for row in rows])

    assert counts.get("sent") == 6
    assert len(fake_teams.received) == 3
    assert len(fake_google_chat.received) == 3
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


# --- send rates ----------------------------------------------------------------------------------


def test_default_rates_and_buckets():
    workspace = WorkspaceFactory()
    teams = ChannelConfigFactory.build(
        workspace=workspace,
        kind="teams",
        webhook_url="https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d",
    )
    chat = ChannelConfigFactory.build(
        workspace=workspace,
        kind="gchat",
        webhook_url="https://chat.googleapis.com/v1/spaces/AAAAxyz/messages?key=k&token=t",
    )
    teams_provider = provider_for(channel="teams", config=teams, workspace=workspace)
    chat_provider = provider_for(channel="gchat", config=chat, workspace=workspace)

    assert (teams_provider.name, teams_provider.rate_per_second) == ("teams_webhook", 2.0)
    assert teams_provider.rate_key.startswith("teams:webhook:")
    assert (chat_provider.name, chat_provider.rate_per_second) == ("google_chat_webhook", 1.0)
    assert chat_provider.rate_key == "gchat:space:AAAAxyz"
    chat.rate_per_second = 0.5
    assert provider_for(channel="gchat", config=chat, workspace=workspace).rate_per_second == 0.5


def test_two_webhooks_into_one_google_chat_space_share_its_one_message_a_second(
    fake_google_chat, settings, django_capture_on_commit_callbacks
):
    """GIVEN two workspaces whose Google Chat webhooks post into the same space
    WHEN each sends a message at the same instant
    THEN the second waits for the space's next slot (Chat's quota is per space), unsent and
    without an attempt counted; a third workspace's own space is not held up."""
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    space = "AAAAshared" + timezone.now().strftime("%H%M%S%f")
    one = ChannelConfigFactory(kind="gchat", webhook_url=fake_google_chat.webhook_url(space))
    two = ChannelConfigFactory(kind="gchat", webhook_url=fake_google_chat.webhook_url(space))
    other = ChannelConfigFactory(kind="gchat", webhook_url=fake_google_chat.webhook_url())
    first, second, third = notification_for(one), notification_for(two), notification_for(other)
    now = timezone.now()

    assert notification_deliver(notification_id=first.pk, now=now) == "sent"
    with django_capture_on_commit_callbacks(execute=False):
        assert notification_deliver(notification_id=second.pk, now=now) == "deferred"
    assert notification_deliver(notification_id=third.pk, now=now) == "sent"

    second.refresh_from_db()
    assert (second.status, second.attempts, second.rate_reserved) == ("pending", 0, True)
    assert now < second.next_attempt_at <= now + timedelta(seconds=1.1)
    assert len(fake_google_chat.received) == 2
    assert notification_deliver(notification_id=second.pk, now=second.next_attempt_at) == "sent"


def test_teams_webhooks_are_limited_per_webhook(fake_teams, settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    config = ChannelConfigFactory(kind="teams", webhook_url=fake_teams.webhook_url())
    first, second, third = (notification_for(config) for _ in range(3))
    now = timezone.now()

    # Two a second, one second's worth at once: the third waits for the next slot, half a second on.
    assert notification_deliver(notification_id=first.pk, now=now) == "sent"
    assert notification_deliver(notification_id=second.pk, now=now) == "sent"
    with django_capture_on_commit_callbacks(execute=False):
        assert notification_deliver(notification_id=third.pk, now=now) == "deferred"

    third.refresh_from_db()
    assert now + timedelta(seconds=0.3) < third.next_attempt_at <= now + timedelta(seconds=0.6)
    assert len(fake_teams.received) == 2
