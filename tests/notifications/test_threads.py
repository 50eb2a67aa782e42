"""Replies in a notification's thread: delivered after the parent, with its ``ts``, exactly once.

Against the fake Slack Web API through the real slack-sdk client: it records ``text``,
``blocks`` and ``thread_ts`` of every ``chat.postMessage``.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import threads
from notifications.models import Notification
from notifications.services import (
    notification_deliver,
    notification_resend,
    notifications_deliver_batch,
    notifications_sweep,
    notifications_write,
)
from tests.factories import PersonFactory
from tests.notifications.factories import BOT_TOKEN, ChannelConfigFactory, NotificationFactory
from tests.notifications.fakes import Reply

pytestmark = pytest.mark.django_db

CHANNEL = "C0CELEB01"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(execute=True):`` runs what waits for the commit (the queueing) at its end."""
    return django_capture_on_commit_callbacks


@pytest.fixture
def bot(fake_slack):
    return ChannelConfigFactory(kind="slack", webhook_url=None, bot_token=BOT_TOKEN, channel_id=CHANNEL)


def posts(fake_slack) -> list[dict]:
    return [item.body for item in fake_slack.received if item.path == "/api/chat.postMessage"]


def unsaved(config, key: str, body: str, **fields) -> Notification:
    return Notification(
        workspace=config.workspace, channel="slack", recipient=CHANNEL, body=body, idempotency_key=key, **fields
    )


def write_thread(config, *, replies: int = 2) -> tuple[Notification, list[Notification]]:
    """A parent and its replies written together, as the digest's planner does."""
    parent = unsaved(config, "t:parent", "🎉 2 celebrations today", blocks=[{"type": "section", "text": {}}])
    children = [
        threads.thread_reply(parent=parent, reply=unsaved(config, f"t:reply-{n}", f"🎂 Happy birthday, P{n}!"))
        for n in range(replies)
    ]
    with transaction.atomic():
        notifications_write(notifications=[parent, *children])
    return parent, children


def queued_ids(queued) -> set[str]:
    return {pk for _, args, _ in queued() for pk in (args[0] if isinstance(args[0], list) else args)}


@pytest.mark.parametrize("delivery_sql", [True, False], ids=["single_statements", "orm"])
def test_a_reply_waits_for_its_parent_then_posts_in_its_thread(
    bot, fake_slack, queued, committed, settings, delivery_sql
):
    settings.NOTIFICATIONS_DELIVERY_SQL = delivery_sql
    parent, (first, second) = write_thread(bot)

    # Queued before its parent went out: nothing is posted, the row waits (no retry counted, not re-queued).
    with committed(execute=True):
        assert notification_deliver(notification_id=first.pk) == "ignored"
    first.refresh_from_db()
    assert (first.status, first.attempts, first.next_attempt_at) == ("pending", 0, threads.AWAITING_PARENT)
    assert posts(fake_slack) == []
    assert queued() == []

    with committed(execute=True):
        assert notification_deliver(notification_id=parent.pk) == "sent"
    parent.refresh_from_db()
    assert parent.provider_message_id  # the parent's ts
    assert queued_ids(queued) == {str(first.pk), str(second.pk)}

    for reply in (first, second):
        assert notification_deliver(notification_id=reply.pk) == "sent"
    parent_post, *reply_posts = posts(fake_slack)
    assert "thread_ts" not in parent_post
    assert parent_post["blocks"] == [{"type": "section", "text": {}}]
    assert [post["thread_ts"] for post in reply_posts] == [parent.provider_message_id] * 2
    assert [post["text"] for post in reply_posts] == ["🎂 Happy birthday, P0!", "🎂 Happy birthday, P1!"]
    # Exactly once: running everything again posts nothing more.
    for pk in (parent.pk, first.pk, second.pk):
        assert notification_deliver(notification_id=pk) == "ignored"
    assert len(posts(fake_slack)) == 3


def test_a_due_reply_claimed_with_its_open_parent_goes_back_to_waiting_and_is_released_by_its_success(
    bot, fake_slack, queued, committed
):
    """GIVEN replies that are due (written without waiting) in one batch with their parent
    WHEN the batch claims them all at once
    THEN the replies go back to waiting untouched, the parent is posted, and its success queues them."""
    parent = NotificationFactory(workspace=bot.workspace, recipient=CHANNEL, idempotency_key="b:parent")
    children = [
        NotificationFactory(workspace=bot.workspace, recipient=CHANNEL, idempotency_key=f"b:{n}", thread_parent=parent)
        for n in range(3)
    ]

    with committed(execute=True):
        outcomes = notifications_deliver_batch(notification_ids=[c.pk for c in children] + [parent.pk])

    assert outcomes == {"awaiting_parent": 3, "sent": 1}
    assert len(posts(fake_slack)) == 1
    for child in children:
        child.refresh_from_db()
        assert (child.status, child.attempts) == ("pending", 0)
    assert queued_ids(queued) == {str(c.pk) for c in children}
    assert notifications_deliver_batch(notification_ids=[c.pk for c in children]) == {"sent": 3}
    parent.refresh_from_db()
    assert {post.get("thread_ts") for post in posts(fake_slack)[1:]} == {parent.provider_message_id}


def test_when_the_parent_fails_permanently_the_replies_are_plain_posts_saying_why(bot, fake_slack):
    parent, children = write_thread(bot)
    fake_slack.script(Reply(200, {"ok": False, "error": "not_in_channel"}))

    assert notification_deliver(notification_id=parent.pk) == "failed"
    for reply in children:
        assert notification_deliver(notification_id=reply.pk) == "sent"

    assert [post.get("thread_ts") for post in posts(fake_slack)[1:]] == [None, None]
    for reply in children:
        reply.refresh_from_db()
        assert reply.status == "sent"
        assert reply.last_error == "thread parent failed (not_in_channel); posted as a plain message"


def test_a_parent_sent_through_a_webhook_has_no_ts_so_its_replies_post_plainly(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    parent = NotificationFactory(workspace=config.workspace, idempotency_key="w:parent")
    reply = NotificationFactory(workspace=config.workspace, idempotency_key="w:reply", thread_parent=parent)

    assert notification_deliver(notification_id=parent.pk) == "sent"
    assert notification_deliver(notification_id=reply.pk) == "sent"

    assert [item.body.get("thread_ts") for item in fake_slack.received] == [None, None]
    reply.refresh_from_db()
    assert "no message ts" in reply.last_error


def test_replies_written_after_the_parent_was_sent_go_at_once_into_its_thread(bot, fake_slack, queued, committed):
    """The service the group card uses: wishes posted under the day's digest by its key."""
    parent = NotificationFactory(workspace=bot.workspace, recipient=CHANNEL, idempotency_key="digest:key")
    assert notification_deliver(notification_id=parent.pk) == "sent"
    queued()

    with committed(execute=True):
        ids = threads.thread_replies_write(
            parent="digest:key", replies=[unsaved(bot, "card:wish-1", "Happy birthday from Bo!")]
        )
    assert queued_ids(queued) == {str(ids[0])}
    # Writing the same wish again (a rerun) creates nothing.
    with transaction.atomic():
        assert threads.thread_replies_write(parent="digest:key", replies=[unsaved(bot, "card:wish-1", "x")]) == []

    assert notification_deliver(notification_id=ids[0]) == "sent"
    parent.refresh_from_db()
    assert posts(fake_slack)[-1]["thread_ts"] == parent.provider_message_id


def test_replies_of_a_parent_still_open_wait_without_being_requeued(bot, fake_slack, queued, committed):
    parent = NotificationFactory(workspace=bot.workspace, recipient=CHANNEL, idempotency_key="open:parent")
    with committed(execute=True):
        (pk,) = threads.thread_replies_write(parent=parent, replies=[unsaved(bot, "open:reply", "hi")])
    assert queued() == []  # waiting: nothing to do until the parent's outcome
    with committed(execute=True):
        notifications_sweep(now=timezone.now() + timedelta(days=3))  # days later: the parent is re-queued
    assert queued_ids(queued) == {str(parent.pk)}
    assert Notification.objects.get(pk=pk).next_attempt_at == threads.AWAITING_PARENT


def test_the_sweeper_releases_replies_whose_release_was_lost(bot, fake_slack, queued, committed):
    """GIVEN a parent recorded as sent whose worker died before releasing its replies
    WHEN the sweeper runs
    THEN the replies are queued and post in the thread."""
    parent, children = write_thread(bot)
    Notification.objects.filter(pk=parent.pk).update(status="sent", provider_message_id="1700000000.000100")

    with committed(execute=True):
        assert notifications_sweep()["requeued"] == 2
    assert queued_ids(queued) == {str(c.pk) for c in children}
    for reply in children:
        assert notification_deliver(notification_id=reply.pk) == "sent"
    assert [post["thread_ts"] for post in posts(fake_slack)] == ["1700000000.000100"] * 2


def test_the_admin_shows_a_waiting_reply_and_its_parent(bot, admin_client):
    parent, (reply, _) = write_thread(bot)

    page = admin_client.get(f"/admin/notifications/notification/{reply.pk}/change/").content.decode()

    assert "after its thread&#x27;s parent is sent" in page
    assert f"/admin/notifications/notification/{parent.pk}/change/" in page  # a link to the parent


def test_a_failed_reply_resent_goes_into_the_same_thread_with_its_blocks(bot, fake_slack):
    parent, (reply, _) = write_thread(bot)
    Notification.objects.filter(pk=reply.pk).update(blocks=[{"type": "divider"}])
    assert notification_deliver(notification_id=parent.pk) == "sent"
    threads.thread_replies_release(parent_keys=[parent.idempotency_key])
    fake_slack.script(Reply(200, {"ok": False, "error": "restricted_action"}))
    assert notification_deliver(notification_id=reply.pk) == "failed"

    copy = notification_resend(notification=Notification.objects.get(pk=reply.pk))
    assert notification_deliver(notification_id=copy.pk) == "sent"

    parent.refresh_from_db()
    last = posts(fake_slack)[-1]
    assert (last["thread_ts"], last["blocks"], last["text"]) == (
        parent.provider_message_id,
        [{"type": "divider"}],
        "🎂 Happy birthday, P0!",
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the single-statement SQL path")
def test_what_threads_cost_in_statements(bot, fake_slack):
    """A webhook post stays at two statements; a bot post adds one read (its waiting replies);
    a reply reads its parent instead."""
    webhook = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    plain = NotificationFactory(workspace=webhook.workspace)
    parent, (reply, _) = write_thread(bot)

    def statements(pk) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert notification_deliver(notification_id=pk) == "sent"
        return [query["sql"].split(None, 1)[0].upper() for query in queries.captured_queries]

    assert statements(plain.pk) == ["WITH", "WITH"]
    assert statements(parent.pk) == ["WITH", "WITH", "SELECT", "UPDATE"]  # two replies released
    assert statements(reply.pk) == ["WITH", "SELECT", "WITH"]


def test_a_parent_skipped_for_an_opt_out_releases_its_replies_as_plain_posts(bot, fake_slack, queued, committed):
    person = PersonFactory(workspace=bot.workspace, opted_out_channels=["slack"])
    parent = NotificationFactory(workspace=bot.workspace, recipient="U0PERSON1", person=person, idempotency_key="dm")
    with committed(execute=True):
        (pk,) = threads.thread_replies_write(parent=parent, replies=[unsaved(bot, "dm:reply", "a wish")])
    with committed(execute=True):
        assert notification_deliver(notification_id=parent.pk) == "skipped"
    assert queued_ids(queued) == {str(pk)}

    assert notification_deliver(notification_id=pk) == "sent"
    assert "thread_ts" not in posts(fake_slack)[-1]
    assert Notification.objects.get(pk=pk).last_error.startswith("thread parent skipped (The person opted out")


def test_replying_to_a_notification_that_does_not_exist_is_refused(bot):
    with pytest.raises(ValueError, match="write the parent first"), transaction.atomic():
        threads.thread_replies_write(parent="no:such:key", replies=[unsaved(bot, "orphan", "hi")])
    assert not Notification.objects.filter(idempotency_key="orphan").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once")
@pytest.mark.django_db(transaction=True)
def test_replies_written_while_their_parent_is_being_sent_are_released_by_it(bot, fake_slack):
    """GIVEN a reply being written (not yet committed) for a parent that is pending
    WHEN a worker delivers the parent meanwhile
    THEN the parent waits for the write, and its outcome releases the reply (no sweeper needed)."""
    parent = NotificationFactory(workspace=bot.workspace, recipient=CHANNEL, idempotency_key="race:parent")
    written = threading.Event()

    def writer():
        try:
            with transaction.atomic():
                threads.thread_replies_write(parent="race:parent", replies=[unsaved(bot, "race:reply", "hi")])
                written.set()
                time.sleep(0.5)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(5)
    assert notification_deliver(notification_id=parent.pk) == "sent"
    thread.join()

    reply = Notification.objects.get(idempotency_key="race:reply")
    assert reply.next_attempt_at != threads.AWAITING_PARENT
