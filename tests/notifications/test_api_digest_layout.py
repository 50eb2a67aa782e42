"""The Slack channel's digest layout in the API and the admin: validated, and honest about webhooks."""

import pytest
from django.urls import reverse

from notifications.models import ChannelConfig
from tests.notifications.factories import BOT_TOKEN, ChannelConfigFactory

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETabcd"


def channels_url(workspace, pk=None):
    base = f"/api/v1/workspaces/{workspace.pk}/channels/"
    return base if pk is None else f"{base}{pk}/"


def test_a_bot_channel_can_thread_the_digest(auth_client, workspace):
    payload = {"kind": "slack", "bot_token": BOT_TOKEN, "channel_id": "C0123456789", "digest_layout": "threaded"}
    response = auth_client.post(channels_url(workspace), payload, format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["digest_layout"], response.json()["digest_threads"]) == ("threaded", True)
    assert ChannelConfig.objects.get(workspace=workspace).digest_layout == "threaded"


def test_a_webhook_channel_accepts_threaded_but_says_it_posts_one_message(auth_client, workspace):
    response = auth_client.post(
        channels_url(workspace), {"kind": "slack", "webhook_url": WEBHOOK, "digest_layout": "threaded"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["digest_layout"], response.json()["digest_threads"]) == ("threaded", False)


def test_the_default_is_one_post(auth_client, workspace):
    body = auth_client.post(channels_url(workspace), {"kind": "slack", "webhook_url": WEBHOOK}, format="json").json()
    assert (body["digest_layout"], body["digest_threads"]) == ("one_post", False)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "slack", "webhook_url": WEBHOOK, "digest_layout": "sideways"}, "digest_layout"),
        ({"kind": "slack", "webhook_url": WEBHOOK, "digest_layout": None}, "digest_layout"),
        ({"kind": "slack", "webhook_url": WEBHOOK, "digest_layout": ["threaded"]}, "digest_layout"),
        ({"kind": "email", "digest_layout": "threaded"}, "digest_layout"),
    ],
)
def test_a_bad_layout_is_a_400_naming_it_and_writes_nothing(auth_client, workspace, payload, field):
    response = auth_client.post(channels_url(workspace), payload, format="json")

    assert response.status_code == 400, response.json()
    assert field in str(response.json())
    assert not ChannelConfig.objects.filter(workspace=workspace).exists()


def test_patching_the_layout_of_an_email_channel_is_refused(auth_client, workspace):
    config = ChannelConfigFactory(workspace=workspace, kind="email", webhook_url=None)
    response = auth_client.patch(channels_url(workspace, config.pk), {"digest_layout": "threaded"}, format="json")

    assert response.status_code == 400
    assert "Only Slack channels" in str(response.json())
    config.refresh_from_db()
    assert config.digest_layout == "one_post"


def test_the_admin_sets_the_layout_and_explains_the_webhook_fallback(admin_client):
    config = ChannelConfigFactory(webhook_url=None, bot_token=BOT_TOKEN, channel_id="C0123456789")
    url = reverse("admin:notifications_channelconfig_change", args=[config.pk])

    page = admin_client.get(url).content.decode()
    assert "with a webhook the digest is always one post" in page

    data = {"active": "on", "channel_id": "C0123456789", "digest_layout": "threaded"}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    config.refresh_from_db()
    assert config.digest_layout == "threaded"
    assert config.bot_token == BOT_TOKEN
