import pytest
from django.db import connection

from notifications.models import ChannelConfig
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, BOT_TOKEN, ChannelConfigFactory
from tests.notifications.fakes import Reply
from workspaces.models import Role

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETabcd"


def channels_url(workspace, pk=None, suffix=""):
    base = f"/api/v1/workspaces/{workspace.pk}/channels/"
    return base if pk is None else f"{base}{pk}/{suffix}"


def test_create_slack_webhook_returns_it_masked(auth_client, workspace):
    response = auth_client.post(channels_url(workspace), {"kind": "slack", "webhook_url": WEBHOOK}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "slack"
    assert body["webhook_url_masked"] == "https://hooks.slack.com/••••abcd"
    assert "webhook_url" not in body
    assert WEBHOOK not in response.content.decode()
    config = ChannelConfig.objects.get(pk=body["id"])
    assert (config.workspace, config.webhook_url) == (workspace, WEBHOOK)


def test_create_twilio_and_read_back_masked(auth_client, workspace):
    payload = {"kind": "sms", "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "+14155550100"}
    created = auth_client.post(channels_url(workspace), payload, format="json").json()

    body = auth_client.get(channels_url(workspace, created["id"])).json()

    assert body["auth_token_masked"] == "••••6789"
    assert "auth_token" not in body
    assert body["account_sid"] == ACCOUNT_SID
    assert AUTH_TOKEN not in str(auth_client.get(channels_url(workspace)).json())


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "slack", "webhook_url": "https://evil.example/services/x"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": "http://127.0.0.1:8000/admin"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": "https://hooks.slack.com@169.254.169.254/"}, "webhook_url"),
        ({"kind": "slack"}, "webhook_url"),
        ({"kind": "slack", "webhook_url": 123}, "webhook_url"),
        ({"kind": "slack", "bot_token": BOT_TOKEN}, "channel_id"),
        ({"kind": "fax"}, "kind"),
        ({}, "kind"),
        ({"kind": "sms", "account_sid": "nope", "auth_token": "x", "from_number": "+14155550100"}, "account_sid"),
        ({"kind": "email", "reply_to": "not-an-email"}, "reply_to"),
        ({"kind": "email", "rate_per_second": "fast"}, "rate_per_second"),
        ({"kind": "email", "active": "maybe"}, "active"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(auth_client, workspace, payload, field):
    response = auth_client.post(channels_url(workspace), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ChannelConfig.objects.exists()


def test_allowed_prefix_comes_from_settings(auth_client, workspace, settings):
    settings.SLACK_WEBHOOK_URL_PREFIXES = ["http://127.0.0.1:9999/hooks/"]
    ok = auth_client.post(
        channels_url(workspace), {"kind": "slack", "webhook_url": "http://127.0.0.1:9999/hooks/abc"}, format="json"
    )
    assert ok.status_code == 201
    ChannelConfig.objects.all().delete()
    for url in ("http://127.0.0.1:99999/hooks/abc", "http://127.0.0.1:9999/other", "http://127.0.0.1/hooks/abc"):
        response = auth_client.post(channels_url(workspace), {"kind": "slack", "webhook_url": url}, format="json")
        assert response.status_code == 400, url


def test_second_channel_of_a_kind_is_refused(auth_client, workspace):
    ChannelConfigFactory(workspace=workspace, kind="email", webhook_url=None)
    response = auth_client.post(channels_url(workspace), {"kind": "email"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_patch_keeps_secrets_and_refuses_a_kind_change(auth_client, workspace):
    config = ChannelConfigFactory(workspace=workspace, webhook_url=WEBHOOK)

    response = auth_client.patch(channels_url(workspace, config.pk), {"active": False}, format="json")
    assert response.status_code == 200
    config.refresh_from_db()
    assert (config.active, config.webhook_url) == (False, WEBHOOK)

    response = auth_client.patch(channels_url(workspace, config.pk), {"kind": "email"}, format="json")
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_delete(auth_client, workspace):
    config = ChannelConfigFactory(workspace=workspace)
    assert auth_client.delete(channels_url(workspace, config.pk)).status_code == 204
    assert not ChannelConfig.objects.exists()


def test_members_get_403_and_outsiders_404(member_client, workspace):
    config = ChannelConfigFactory(workspace=workspace)
    outsider = client_for(UserFactory())

    assert member_client.get(channels_url(workspace)).status_code == 403
    assert member_client.post(channels_url(workspace), {"kind": "email"}, format="json").status_code == 403
    assert member_client.post(channels_url(workspace, config.pk, "test"), {}, format="json").status_code == 403
    assert outsider.get(channels_url(workspace)).status_code == 404
    assert outsider.get(channels_url(workspace, config.pk)).status_code == 404
    assert outsider.post(channels_url(workspace, config.pk, "test"), {}, format="json").status_code == 404
    assert outsider.delete(channels_url(workspace, config.pk)).status_code == 404
    assert ChannelConfig.objects.count() == 1


def test_another_workspaces_channel_is_not_found_here(auth_client, workspace):
    elsewhere = ChannelConfigFactory(workspace=WorkspaceFactory())
    assert auth_client.get(channels_url(workspace, elsewhere.pk)).status_code == 404
    assert auth_client.patch(channels_url(workspace, elsewhere.pk), {"active": False}, format="json").status_code == 404
    assert auth_client.post(channels_url(workspace, elsewhere.pk, "test"), {}, format="json").status_code == 404


def test_admin_role_may_manage_channels(workspace):
    admin = MembershipFactory(workspace=workspace, role=Role.ADMIN).user
    response = client_for(admin).post(channels_url(workspace), {"kind": "email"}, format="json")
    assert response.status_code == 201


# --- test messages ----------------------------------------------------------------------------


def test_test_message_goes_through_the_real_provider(auth_client, workspace, fake_slack):
    config = ChannelConfigFactory(workspace=workspace, webhook_url=fake_slack.webhook_url)

    response = auth_client.post(channels_url(workspace, config.pk, "test"), {}, format="json")

    assert response.status_code == 200
    assert response.json() | {"provider_message_id": ""} == {
        "ok": True,
        "outcome": "sent",
        "provider": "slack_webhook",
        "recipient": "webhook",
        "status_code": 200,
        "provider_message_id": "",
        "detail": "ok",
    }
    assert "test message" in fake_slack.received[0].body["text"]


def test_test_message_reports_the_providers_refusal(auth_client, workspace, fake_slack):
    config = ChannelConfigFactory(workspace=workspace, webhook_url=fake_slack.webhook_url)
    fake_slack.script(Reply(404, "channel_not_found"))

    body = auth_client.post(channels_url(workspace, config.pk, "test"), {}, format="json").json()

    assert (body["ok"], body["outcome"], body["status_code"], body["detail"]) == (
        False,
        "permanent",
        404,
        "channel_not_found",
    )


def test_test_sms_needs_a_valid_recipient(auth_client, workspace, fake_twilio):
    config = ChannelConfigFactory(
        workspace=workspace,
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
    )
    url = channels_url(workspace, config.pk, "test")

    assert auth_client.post(url, {}, format="json").status_code == 400  # the owner has no phone
    assert auth_client.post(url, {"recipient": "12"}, format="json").status_code == 400
    assert fake_twilio.received == []
    MembershipFactory(workspace=workspace, user=UserFactory(phone="+14155550123"))
    response = auth_client.post(url, {"recipient": "+14155550123"}, format="json")
    assert response.json()["ok"] is True
    assert fake_twilio.received[0].body["To"] == "+14155550123"


def test_test_message_respects_the_rate_limit(auth_client, workspace, fake_slack, settings):
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = True
    config = ChannelConfigFactory(workspace=workspace, webhook_url=fake_slack.webhook_url)
    url = channels_url(workspace, config.pk, "test")

    assert auth_client.post(url, {}, format="json").status_code == 200
    response = auth_client.post(url, {}, format="json")

    assert response.status_code == 429
    assert response.json()["retry_after"] >= 1
    assert len(fake_slack.received) == 1


def test_secret_columns_hold_ciphertext(auth_client, workspace):
    auth_client.post(
        channels_url(workspace), {"kind": "slack", "bot_token": BOT_TOKEN, "channel_id": "C0123456789"}, format="json"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT bot_token, webhook_url FROM notifications_channelconfig")
        [(bot_token, webhook_url)] = cursor.fetchall()
    assert BOT_TOKEN not in bot_token
    assert webhook_url is None
