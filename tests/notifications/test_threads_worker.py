"""A real Celery worker delivers a thread: the parent first, then each reply with its ``ts``, once.

The tick queues every row it writes at once, replies included; the order comes from the rows,
not from the queue: a reply that arrives first is left waiting, and the parent's success
queues it again.
"""

import os
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from notifications import threads
from notifications.models import Notification
from notifications.services import notifications_enqueue, notifications_write
from tests.brokers import celery_broker
from tests.notifications.conftest import WORKER_BROKER_URL as BROKER_URL
from tests.notifications.factories import BOT_TOKEN, ChannelConfigFactory
from tests.notifications.test_worker import Worker, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(django_settings.EMBEDDED, reason="needs PostgreSQL and Redis"),
]

CHANNEL = "C0CELEB01"
REPLIES = 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("batched", [False, True], ids=["one_task_each", "batches"])
def test_a_real_worker_posts_the_parent_then_its_replies_in_its_thread(
    tmp_path, fake_slack, broker_prefix, settings, batched
):
    """GIVEN a parent and six replies written together and all queued at once, replies first
    WHEN a real prefork worker delivers them (one task each, or in batches)
    THEN Slack gets the parent once, then each reply once with the parent's ts as thread_ts."""
    threshold = "3" if batched else "1000"
    settings.NOTIFICATIONS_BATCH_THRESHOLD, settings.NOTIFICATIONS_BATCH_SIZE = int(threshold), 3  # who queues decides
    config = ChannelConfigFactory(webhook_url=None, bot_token=BOT_TOKEN, channel_id=CHANNEL)
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "SLACK_API_BASE_URL": fake_slack.api_url,
        "SLACK_TIMEOUT_SECONDS": "5",
        "BB_TEST_BROKER_URL": BROKER_URL,
        "BB_TEST_BROKER_PREFIX": broker_prefix,
        "BB_TEST_BATCH_THRESHOLD": threshold,
        "BB_TEST_BATCH_SIZE": "3",
    }
    worker = Worker(env, tmp_path / "worker.log")
    try:
        worker.wait_ready()

        def row(key: str, body: str) -> Notification:
            return Notification(
                workspace=config.workspace, channel="slack", recipient=CHANNEL, body=body, idempotency_key=key
            )

        parent = row("w:parent", "🎉 6 celebrations today")
        replies = [threads.thread_reply(parent=parent, reply=row(f"w:reply-{n}", f"reply {n}")) for n in range(REPLIES)]
        with celery_broker(BROKER_URL, {"global_keyprefix": broker_prefix}), transaction.atomic():
            ids = notifications_write(notifications=[*replies, parent])
            notifications_enqueue(notification_ids=ids)  # replies first, all at once, as the tick queues them
        wait_for(
            lambda: Notification.objects.filter(status="sent").count() == REPLIES + 1,
            40,
            "not all sent: "
            + str(Counter(Notification.objects.values_list("status", flat=True)))
            + worker.log_path.read_text()[-2000:],
        )
    finally:
        worker.kill()

    posts = [item.body for item in fake_slack.received if item.path == "/api/chat.postMessage"]
    parent.refresh_from_db()
    assert posts[0]["text"] == "🎉 6 celebrations today"
    assert "thread_ts" not in posts[0]
    assert Counter(post["text"] for post in posts[1:]) == Counter(f"reply {n}" for n in range(REPLIES))
    assert {post["thread_ts"] for post in posts[1:]} == {parent.provider_message_id}
    assert not Notification.objects.exclude(status="sent").exists()
