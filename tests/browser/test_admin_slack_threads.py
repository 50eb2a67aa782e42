"""The Slack channel's digest layout and a waiting thread reply in the staff admin, in Chromium."""

import pytest

from notifications import threads
from notifications.models import ChannelConfig, Notification
from tests.browser.conftest import PHONE
from tests.browser.test_admin import signed_in, staff  # noqa: F401 - fixtures
from tests.notifications.factories import BOT_TOKEN, ChannelConfigFactory, NotificationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_thread_the_digest_of_a_bot_channel(signed_in, live_server, screenshot):  # noqa: F811
    config = ChannelConfigFactory(webhook_url=None, bot_token=BOT_TOKEN, channel_id="C0123456789")
    page = signed_in()

    page.goto(f"{live_server.url}/admin/notifications/channelconfig/{config.pk}/change/")
    assert "with a webhook the digest is always one post" in page.locator(".field-digest_layout").inner_text()
    page.select_option("#id_digest_layout", "threaded")
    screenshot(page, "admin-slack-digest-layout")
    page.click("input[name=_save]")

    page.wait_for_selector(".messagelist")
    config.refresh_from_db()
    assert (config.digest_layout, config.bot_token) == ("threaded", BOT_TOKEN)
    assert page.js_errors == []


def test_a_waiting_reply_on_a_phone(signed_in, live_server, screenshot):  # noqa: F811
    config = ChannelConfigFactory(webhook_url=None, bot_token=BOT_TOKEN, channel_id="C0123456789")
    parent = NotificationFactory(workspace=config.workspace, recipient="C0123456789", idempotency_key="p")
    reply = Notification(
        workspace=config.workspace,
        channel="slack",
        recipient="C0123456789",
        body="🎂 Happy birthday, Ana!",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "🎂 Happy birthday, Ana!"}}],
        idempotency_key="r",
    )
    threads.thread_reply(parent=parent, reply=reply).save()
    page = signed_in(viewport=PHONE)

    page.goto(f"{live_server.url}/admin/notifications/notification/{reply.pk}/change/")
    assert "after its thread's parent is sent" in page.locator(".field-next_attempt").inner_text()
    page.click(".field-thread_parent a")
    page.wait_for_url(f"**/{parent.pk}/change/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    screenshot(page, "admin-thread-parent-phone")
    assert ChannelConfig.objects.count() == 1
    assert page.js_errors == []
