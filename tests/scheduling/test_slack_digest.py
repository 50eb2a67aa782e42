"""The digest in Slack: Block Kit with its text fallback, one post or a thread by setting, exactly once."""

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications import threads
from notifications.models import ChannelConfig, Notification
from notifications.services import notification_deliver
from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.tick import tick
from tests.factories import PersonFactory
from tests.notifications.conftest import _slack_server, fake_slack  # noqa: F401 - fixtures
from tests.notifications.factories import BOT_TOKEN, TemplateFactory

pytestmark = pytest.mark.django_db

CHANNEL = "C0CELEB01"


@pytest.fixture(autouse=True)
def _slack_posts_only(settings):
    settings.NOTIFICATIONS_CONSOLE_FALLBACK = False
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = False  # the limiter has its own tests


def digest_of(workspace) -> Reminder:
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    Reminder.objects.filter(pk=reminder.pk).update(channels=["slack"])
    reminder.refresh_from_db()
    return reminder


def use_bot(workspace, *, layout: str) -> None:
    ChannelConfig.objects.filter(workspace=workspace, kind="slack").update(
        webhook_url=None, bot_token=BOT_TOKEN, channel_id=CHANNEL, digest_layout=layout
    )


def celebrating(workspace, reminder) -> date:
    """Three people celebrating on the digest's first day: two birthdays, one work anniversary."""
    day = reminder.next_run_at.astimezone(ZoneInfo(workspace.timezone)).date()
    same_day = {"birth_month": day.month, "birth_day": day.day}
    PersonFactory(
        workspace=workspace,
        name="Ana <!channel>",
        slack_user_id="U0ANA0001",
        birth_year=1990,
        show_age=True,
        **same_day,
    )
    PersonFactory(workspace=workspace, name="Bo & Co", birth_year=None, show_age=False, **same_day)
    PersonFactory(
        workspace=workspace, name="Cy", birth_month=None, birth_day=None, joined_on=day.replace(year=day.year - 5)
    )
    return day


def fire(reminder) -> None:
    tick(now=reminder.next_run_at + timedelta(seconds=5))


def slack_rows(workspace):
    return Notification.objects.filter(workspace=workspace, channel="slack").order_by("idempotency_key")


def test_one_post_carries_blocks_and_the_templates_text_as_fallback(make_workspace):
    workspace = make_workspace()
    reminder = digest_of(workspace)
    use_bot(workspace, layout="one_post")
    celebrating(workspace, reminder)
    fire(reminder)

    (post,) = slack_rows(workspace)
    assert post.body.startswith("🎂 Today: <@U0ANA0001>")  # the text is today's, unchanged
    sections = [b["text"]["text"] for b in post.blocks if b["type"] == "section"]
    assert sections == [
        f"🎂 <@U0ANA0001> turns {post.occurrence_date.year - 1990}!",
        "🎂 Happy birthday, Bo &amp; Co!",
        f"🎉 Cy: 5 years at {workspace.name} · *Milestone!*",
    ]
    assert [b["type"] for b in post.blocks] == ["header", "section", "section", "section", "context"]
    assert "<!channel>" not in json.dumps(post.blocks) + post.body


def test_threaded_digest_is_a_short_parent_and_one_waiting_reply_per_celebration(make_workspace):
    workspace = make_workspace()
    reminder = digest_of(workspace)
    use_bot(workspace, layout="threaded")
    celebrating(workspace, reminder)
    fire(reminder)

    rows = list(slack_rows(workspace))
    (parent,) = [row for row in rows if row.thread_parent_id is None]
    replies = [row for row in rows if row.thread_parent_id]
    assert parent.body == "🎉 3 celebrations today"
    assert parent.idempotency_key.split(":")[2] == "digest"
    assert sorted(row.idempotency_key.split(":")[2].rsplit("-", 5)[0] for row in replies) == [
        "digest-reply-anniversary",
        "digest-reply-birthday",
        "digest-reply-birthday",
    ]
    assert {row.thread_parent_id for row in replies} == {parent.idempotency_key}
    assert {row.next_attempt_at for row in replies} == {threads.AWAITING_PARENT}
    assert sorted(row.body for row in replies) == sorted(
        [b["text"]["text"] for row in replies for b in row.blocks if b["type"] == "section"]
    )
    assert any(row.body == "🎂 Happy birthday, Bo &amp; Co!" for row in replies)

    # A rerun of the occurrence writes nothing more.
    run = services.digest_run_now(workspace=workspace, day=parent.occurrence_date)
    assert run.result is not None
    assert run.result.created_ids == []
    assert slack_rows(workspace).count() == 4


def test_threaded_digest_is_delivered_in_the_thread_exactly_once(make_workspace, fake_slack):  # noqa: F811
    workspace = make_workspace()
    reminder = digest_of(workspace)
    use_bot(workspace, layout="threaded")
    celebrating(workspace, reminder)
    fire(reminder)
    rows = list(slack_rows(workspace))
    parent = next(row for row in rows if row.thread_parent_id is None)

    for row in rows:  # replies first: they wait
        if row.thread_parent_id:
            assert notification_deliver(notification_id=row.pk) == "ignored"
    assert notification_deliver(notification_id=parent.pk) == "sent"
    for row in rows:
        if row.thread_parent_id:
            assert notification_deliver(notification_id=row.pk) == "sent"
    for row in rows:
        assert notification_deliver(notification_id=row.pk) == "ignored"  # a rerun sends nothing again

    parent.refresh_from_db()
    first, *others = [item.body for item in fake_slack.received]
    assert first["text"] == "🎉 3 celebrations today"
    assert "thread_ts" not in first
    assert first["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🎉 3 celebrations today", "emoji": True},
    }
    assert len(others) == 3
    assert {body["thread_ts"] for body in others} == {parent.provider_message_id}
    assert all(body["blocks"] and body["text"] for body in others)


def test_threaded_with_a_webhook_falls_back_to_one_post(make_workspace):
    workspace = make_workspace()  # a webhook channel
    ChannelConfig.objects.filter(workspace=workspace).update(digest_layout="threaded")
    reminder = digest_of(workspace)
    celebrating(workspace, reminder)
    fire(reminder)

    (post,) = slack_rows(workspace)
    assert post.recipient == "webhook"
    assert post.thread_parent_id is None
    assert post.body.startswith("🎂 Today:")
    assert post.blocks[0]["type"] == "header"


@pytest.mark.parametrize("layout", ["one_post", "threaded"])
def test_a_template_override_is_the_body_of_the_post(make_workspace, layout):
    workspace = make_workspace()
    reminder = digest_of(workspace)
    use_bot(workspace, layout=layout)
    TemplateFactory(workspace=workspace, body="Cake for {{ birthdays | map(attribute='mention') | join(' and ') }}!")
    celebrating(workspace, reminder)
    fire(reminder)

    post = slack_rows(workspace).get(thread_parent__isnull=True)
    expected = "Cake for <@U0ANA0001> and Bo &amp; Co!"
    assert post.body == expected
    assert [b["text"]["text"] for b in post.blocks if b["type"] == "section"] == [expected]
    assert slack_rows(workspace).filter(thread_parent__isnull=False).count() == (3 if layout == "threaded" else 0)


def test_a_moved_celebration_says_on_which_day(make_workspace):
    workspace = make_workspace(celebration_shift="working_day_before", holiday_country="DE")
    use_bot(workspace, layout="threaded")
    digest_of(workspace)
    PersonFactory(workspace=workspace, name="Sam Saturday", birth_month=4, birth_day=4)
    run = services.digest_run_now(workspace=workspace, day=date(2026, 4, 2), dry_run=True)
    texts = {m.notification.body for m in run.result.planned}
    assert "🎂 Happy birthday, Sam Saturday! (on Saturday)" in texts


def test_a_crowded_day_stays_within_slacks_block_limits(make_workspace):
    workspace = make_workspace()
    reminder = digest_of(workspace)
    use_bot(workspace, layout="one_post")
    day = reminder.next_run_at.astimezone(ZoneInfo(workspace.timezone)).date()
    for n in range(70):
        PersonFactory(workspace=workspace, name=f"Person {n:02}", birth_month=day.month, birth_day=day.day)
    fire(reminder)

    (post,) = slack_rows(workspace)
    assert len(post.blocks) <= 50
    text = "\n".join(b["text"]["text"] for b in post.blocks if b["type"] == "section")
    assert all(f"Person {n:02}" in text for n in range(70))
    assert all(len(b["text"]["text"]) <= 3000 for b in post.blocks if b["type"] == "section")
    assert post.created_at <= timezone.now()
