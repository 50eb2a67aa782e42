from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.queries import audit_entries
from notifications.models import ChannelConfig, Notification
from tests.audit_checks import assert_shown_to_workspace_admins_only, latest_operation
from tests.factories import MembershipFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory, NotificationFactory
from tests.notifications.fakes import FakeTwilio

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETabcd"


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_channel_secrets_are_masked_in_list_and_form(admin_client):
    config = ChannelConfigFactory(webhook_url=WEBHOOK)

    listing = admin_client.get(reverse("admin:notifications_channelconfig_changelist")).content.decode()
    form = admin_client.get(reverse("admin:notifications_channelconfig_change", args=[config.pk])).content.decode()

    for page in (listing, form):
        assert WEBHOOK not in page
        assert "XXXXSECRET" not in page
    assert "https://hooks.slack.com/••••abcd" in listing
    assert "••••abcd" in form


def test_saving_the_form_without_secrets_keeps_them(admin_client):
    config = ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid="AC" + "a1" * 16, auth_token=AUTH_TOKEN, from_number="+14155550100"
    )
    url = reverse("admin:notifications_channelconfig_change", args=[config.pk])
    data = {
        "workspace": str(config.workspace_id),
        "kind": "sms",
        "active": "on",
        "account_sid": config.account_sid,
        "auth_token": "",
        "from_number": "+14155550100",
        "created_at_0": "2026-11-22",
        "created_at_1": "00:00:00",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    config.refresh_from_db()
    assert config.auth_token == AUTH_TOKEN


def test_admin_validates_the_webhook_prefix(admin_client, workspace):
    data = {"workspace": str(workspace.pk), "kind": "slack", "active": "on", "webhook_url": "https://evil.example/x"}
    response = admin_client.post(reverse("admin:notifications_channelconfig_add"), data)
    assert response.status_code == 200
    assert "not an allowed Slack webhook" in response.content.decode()
    assert not ChannelConfig.objects.exists()


def test_notification_admin_resend_action(admin_client):
    failed = NotificationFactory(status="failed")
    sent = NotificationFactory(status="sent")

    response = admin_client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [str(failed.pk), str(sent.pk)]},
    )
    assert response.status_code == 200  # two notifications: asked first
    assert "left alone: it is sent" in response.content.decode()
    assert not Notification.objects.filter(resent_from=failed).exists()

    response = admin_client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [str(failed.pk), str(sent.pk)], "confirmed": "yes"},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("not resent, it is sent" in m for m in shown)
    assert Notification.objects.filter(resent_from=failed).count() == 1
    assert not Notification.objects.filter(resent_from=sent).exists()


def test_notification_admin_shows_attempts_and_filters(admin_client):
    notification = NotificationFactory(status="failed", last_error="channel_not_found")
    notification.delivery_attempts.create(number=1, outcome="permanent", status_code=404, error="channel_not_found")

    page = admin_client.get(reverse("admin:notifications_notification_change", args=[notification.pk]))
    listing = admin_client.get(reverse("admin:notifications_notification_changelist") + "?status=failed&channel=slack")

    assert page.status_code == 200
    assert "channel_not_found" in page.content.decode()
    assert listing.status_code == 200
    assert str(notification.pk)[:8] in listing.content.decode()


def test_channel_admin_send_test_message_action(admin_client, fake_slack):
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)

    response = admin_client.post(
        reverse("admin:notifications_channelconfig_changelist"),
        {"action": "send_test_message", "_selected_action": [str(config.pk)]},
        follow=True,
    )

    assert "Sent. Slack accepted the test message" in response.content.decode()
    assert len(fake_slack.received) == 1


def test_send_test_notification_command(fake_slack):
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)
    out = StringIO()

    call_command("send_test_notification", workspace=config.workspace.slug, channel="slack", stdout=out)

    assert "sent via slack_webhook" in out.getvalue()
    assert len(fake_slack.received) == 1
    with pytest.raises(CommandError, match="no sms channel"):
        call_command("send_test_notification", workspace=str(config.workspace.pk), channel="sms")


# --- manual operations are audited ---------------------------------------------------------


def test_admin_resend_is_audited_with_the_staff_user(admin_client, staff_user):
    failed = NotificationFactory(status="failed", last_error="channel_not_found")
    sent = NotificationFactory(workspace=failed.workspace, status="sent")

    response = admin_client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "resend", "_selected_action": [str(failed.pk), str(sent.pk)], "confirmed": "yes"},
    )

    assert response.status_code == 302
    resent = Notification.objects.get(resent_from=failed)
    entry = latest_operation(failed.workspace, "notification.resend")
    assert entry.actor_id == staff_user.pk
    assert entry.additional_data["workspace_id"] == str(failed.workspace_id)
    assert (entry.content_type.model, entry.object_pk) == ("notification", str(failed.pk))
    assert entry.additional_data["details"] == {"resend_id": str(resent.pk), "origin": "admin"}
    # The refused one (already sent) left no entry.
    assert audit_entries().with_operation("notification.resend").count() == 1
    row = assert_shown_to_workspace_admins_only(entry, failed.workspace)
    assert row["actor"]["email"] == staff_user.email
    assert row["details"]["origin"] == "admin"


def test_admin_channel_test_is_audited(admin_client, staff_user, fake_slack):
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)

    admin_client.post(
        reverse("admin:notifications_channelconfig_changelist"),
        {"action": "send_test_message", "_selected_action": [str(config.pk)]},
    )

    entry = latest_operation(config.workspace, "channel.test")
    assert entry.actor_id == staff_user.pk
    assert (entry.content_type.model, entry.object_pk) == ("channelconfig", str(config.pk))
    assert entry.additional_data["details"]["ok"] is True
    assert entry.additional_data["details"]["origin"] == "admin"
    assert_shown_to_workspace_admins_only(entry, config.workspace)


def test_admin_channel_test_that_is_refused_is_not_audited(admin_client, workspace):
    ChannelConfigFactory(workspace=workspace, kind="email", webhook_url=None)
    notification = NotificationFactory(workspace=workspace, channel="email", recipient="not-an-address")

    response = admin_client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "send_test_message", "_selected_action": [str(notification.pk)]},
        follow=True,
    )

    assert "not-an-address" in response.content.decode()
    assert not audit_entries().with_operation("channel.test").exists()


def test_send_test_notification_command_is_audited_under_its_name(fake_slack):
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)

    call_command("send_test_notification", workspace=config.workspace.slug, channel="slack", stdout=StringIO())

    entry = latest_operation(config.workspace, "channel.test")
    assert entry.actor_id is None
    assert entry.actor_email is None
    assert entry.additional_data["details"]["origin"] == "manage.py send_test_notification"
    assert entry.additional_data["workspace_id"] == str(config.workspace_id)
    row = assert_shown_to_workspace_admins_only(entry, config.workspace)
    assert row["actor"] is None
    assert row["details"]["origin"] == "manage.py send_test_notification"


# --- triage ----------------------------------------------------------------------------------


def test_the_list_names_purpose_workspace_error_and_next_attempt(admin_client):
    from datetime import UTC, datetime

    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory(name="Lima & Co", timezone="Europe/Berlin")
    NotificationFactory(
        workspace=workspace,
        status="failed",
        last_error="gave up after 5 attempts: channel_not_found",
        idempotency_key="r1:20301231T1600:digest:slack:abc",
    )
    NotificationFactory(
        workspace=workspace,
        status="pending",
        next_attempt_at=datetime(2030, 1, 1, 8, tzinfo=UTC),
        idempotency_key="event:e1:invite:a1:email",
    )

    page = admin_client.get(reverse("admin:notifications_notification_changelist")).content.decode()

    assert "Birthday digest" in page
    assert "Invitation" in page
    assert "Lima &amp; Co" in page
    assert "channel_not_found" in page
    assert "2030-01-01 09:00 Europe/Berlin" in page


def test_the_detail_is_read_only_with_resend_and_history_stays(admin_client):
    failed = NotificationFactory(status="failed", last_error="invalid_token")
    url = reverse("admin:notifications_notification_change", args=[failed.pk])

    page = admin_client.get(url).content.decode()
    assert 'id="resend-button"' in page
    assert 'name="_save"' not in page
    assert admin_client.get(reverse("admin:notifications_notification_delete", args=[failed.pk])).status_code == 403

    response = admin_client.post(reverse("admin:notifications_notification_resend", args=[failed.pk]), follow=True)

    copy = Notification.objects.get(resent_from=failed)
    assert response.redirect_chain[-1][0].endswith(f"/{copy.pk}/change/")
    assert any("Resent" in str(m) for m in response.context["messages"])
    again = admin_client.post(reverse("admin:notifications_notification_resend", args=[failed.pk]), follow=True)
    assert any("Not resent" in str(m) for m in again.context["messages"])
    assert Notification.objects.filter(resent_from=failed).count() == 1
    assert admin_client.get(reverse("admin:notifications_notification_resend", args=[failed.pk])).status_code == 403


# --- the channels admin ---------------------------------------------------------------------


def sms_config(**extra):
    return ChannelConfigFactory(
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number="+14155550100",
        **extra,
    )


def test_channels_are_named_by_workspace_name_and_kind(admin_client):
    config = sms_config(workspace=WorkspaceFactory(name="Acme Dental"))

    listing = admin_client.get(reverse("admin:notifications_channelconfig_changelist")).content.decode()

    assert str(config) == "Acme Dental · SMS"
    assert "Acme Dental · SMS" in listing
    assert str(config.workspace_id) not in listing


def test_the_form_shows_only_the_kinds_fields_and_each_secret_once_masked(admin_client):
    config = sms_config()

    page = admin_client.get(reverse("admin:notifications_channelconfig_change", args=[config.pk])).content.decode()

    assert 'name="auth_token"' in page
    assert 'name="from_number"' in page
    for other in ("webhook_url", "bot_token", "channel_id", "from_name", "reply_to", "whatsapp_template_sid"):
        assert f'name="{other}"' not in page, other
    assert AUTH_TOKEN not in page
    assert page.count("••••") == 1  # the stored auth token, masked, in its field's help
    assert 'name="kind"' not in page  # a channel's kind cannot change (as in the API)

    adding = admin_client.get(reverse("admin:notifications_channelconfig_add"), {"kind": "email"}).content.decode()
    assert 'name="from_name"' in adding
    assert 'name="auth_token"' not in adding
    assert 'name="webhook_url"' not in adding


def test_the_form_refuses_what_the_api_refuses_with_the_fields_label(admin_client, workspace):
    data = {"workspace": str(workspace.pk), "kind": "sms", "active": "on", "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN, "from_number": "12"}  # fmt: skip

    response = admin_client.post(reverse("admin:notifications_channelconfig_add") + "?kind=sms", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "from_number" in errors, errors
    assert not ChannelConfig.objects.exists()

    data["from_number"] = "+1 415 555 0100"
    response = admin_client.post(reverse("admin:notifications_channelconfig_add") + "?kind=sms", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = ChannelConfig.objects.get()
    assert saved.from_number == "+14155550100"  # normalized by the channel services, as the API does
    assert saved.auth_token == AUTH_TOKEN


def test_send_test_asks_for_a_phone_number_and_says_what_twilio_answered(admin_client, staff_user, fake_twilio):
    config = sms_config()
    MembershipFactory(workspace=config.workspace, user=staff_user)
    staff_user.phone = "+14155550123"
    staff_user.save(update_fields=["phone"])
    change = reverse("admin:notifications_channelconfig_change", args=[config.pk])
    send = reverse("admin:notifications_channelconfig_send_test", args=[config.pk])

    page = admin_client.get(change).content.decode()
    assert f'action="{send}"' in page
    assert 'name="recipient"' in page

    sent = admin_client.post(send, {"recipient": "+14155550123"}, follow=True).content.decode()
    assert "Sent. Twilio accepted the test message to +14155550123" in sent
    assert fake_twilio.received[0].body["To"] == "+14155550123"

    fake_twilio.script(FakeTwilio.error(400, 21211, "The 'To' number +14155550123 is not a valid phone number."))
    refused = admin_client.post(send, {"recipient": "+14155550123"}, follow=True).content.decode()
    assert "Not sent to +14155550123: Twilio refused it: the phone number is not valid" in refused
    assert "{" not in refused.split('<ul class="messagelist">')[1].split("</ul>")[0]

    wrong = admin_client.post(send, {"recipient": "12"}, follow=True).content.decode()
    assert "not sent." in wrong
    assert len(fake_twilio.received) == 2


def test_send_test_on_slack_needs_no_address(admin_client, fake_slack):
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)
    change = reverse("admin:notifications_channelconfig_change", args=[config.pk])

    page = admin_client.get(change).content.decode()
    assert 'name="recipient"' not in page

    response = admin_client.post(
        reverse("admin:notifications_channelconfig_send_test", args=[config.pk]), follow=True
    ).content.decode()
    assert "Sent. Slack accepted the test message" in response
    assert len(fake_slack.received) == 1
    assert admin_client.get(reverse("admin:notifications_channelconfig_send_test", args=[config.pk])).status_code == 403
