"""Microsoft Teams and Google Chat channels: the URL allow-lists, the channel API and admin, and
the digest and workspace-channel reminders reaching them."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import ChannelConfig, Notification
from notifications.services import notification_deliver
from notifications.validators import google_chat_webhook_url_error, teams_webhook_url_error
from reminders.models import Audience, Reminder, ReminderKind
from reminders.services import reminder_create, reminder_update
from scheduling.tick import tick
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import ChannelConfigFactory
from tests.notifications.fakes import Reply
from workspaces.models import Role

TEAMS_GOOD = [
    "https://contoso.webhook.office.com/webhookb2/6f1c@72f9/IncomingWebhook/8a1b2c/0d9e",
    "https://prod-12.westus.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbC",
    "https://default72f9.88.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/"
    "0a1b/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=XyZ",
]
GCHAT_GOOD = [
    "https://chat.googleapis.com/v1/spaces/AAAAbcd_12-x/messages?key=AIzaSyDdI0&token=abc%3Ddef",
    "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t&threadKey=birthdays",
    "https://chat.googleapis.com:443/v1/spaces/AAAA/messages?key=k&token=t&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
]
COMMON_BAD = [
    ("", "Enter the webhook URL"),
    ("chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t", "must start with https://"),
    ("http://contoso.webhook.office.com/webhookb2/x", "must start with https://"),
    ("ftp://contoso.webhook.office.com/webhookb2/x", "must start with https://"),
    ("javascript:alert(1)", "must start with https://"),
    ("https://user:pw@contoso.webhook.office.com/webhookb2/x", "user name or password"),
    ("https://chat.googleapis.com@169.254.169.254/v1/spaces/A/messages?key=k&token=t", "user name or password"),
    ("https://127.0.0.1/webhookb2/x", "not an IP address"),
    ("https://[::1]/v1/spaces/A/messages?key=k&token=t", "not an IP address"),
    ("https://[::ffff:169.254.169.254]/x", "not an IP address"),
    ("https://169.254.169.254/latest/meta-data", "not an IP address"),
    ("https://contoso.webhook.office.com:8443/webhookb2/x", "port other than 443"),
    ("https://chat.googleapis.com:80/v1/spaces/A/messages?key=k&token=t", "port other than 443"),
    ("https://contoso.webhook.office.com:99999/webhookb2/x", "valid URL"),
    ("https://contoso.webhook.office.com/webhookb2/x#frag", "#fragment"),
    ("https://contoso.webhook.office.com/webhook b2/x", "spaces"),
    ("https://contoso.webhook.office.com/webhookb2/x\n", "control characters"),
    ("https://contoso.webhook.office.com\\@evil.example/webhookb2/x", "backslashes"),
    ("https://contoso.webhook.office.com/" + "a" * 500, "too long"),
    ("https://contoso_.webhook.office.com/webhookb2/x", "not a valid name"),
    ("https://-x.webhook.office.com/webhookb2/x", "not a valid name"),
]
TEAMS_BAD = [
    *COMMON_BAD,
    ("https://webhook.office.com/webhookb2/x", "not a Microsoft Teams webhook"),
    ("https://contoso.webhook.office.com.evil.example/webhookb2/x", "not a Microsoft Teams webhook"),
    ("https://evilwebhook.office.com/webhookb2/x", "not a Microsoft Teams webhook"),
    ("https://outlook.office.com/webhook/x", "not a Microsoft Teams webhook"),
    ("https://hooks.slack.com/services/T0/B0/x", "not a Microsoft Teams webhook"),
    ("https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t", "not a Microsoft Teams webhook"),
    ("https://contoso.webhook.office.com./webhookb2/x", "not a valid name"),
    ("https://contoso.webhook.office.com/admin", "path starts with /webhookb2/"),
    ("https://prod-1.westus.logic.azure.com/subscriptions/x", "path starts with /workflows/"),
    ("https://prod-1.westus.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sv=1.0", "sig parameter"),
    ("https://x.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/x", "sig parameter"),
    ("https://x.environment.api.powerplatform.com/admin?sig=x", "path starts with /powerautomate/"),
]
GCHAT_BAD = [
    *COMMON_BAD,
    ("https://chat.googleapis.com.evil.example/v1/spaces/A/messages?key=k&token=t", "host must be chat.googleapis"),
    ("https://www.googleapis.com/v1/spaces/A/messages?key=k&token=t", "host must be chat.googleapis"),
    ("https://contoso.webhook.office.com/webhookb2/x", "host must be chat.googleapis"),
    ("https://chat.googleapis.com/v1/spaces/A/members?key=k&token=t", "path is /v1/spaces/<space>/messages"),
    ("https://chat.googleapis.com/v1/spaces/A/messages/B?key=k&token=t", "path is /v1/spaces/<space>/messages"),
    ("https://chat.googleapis.com/v1/spaces/../messages?key=k&token=t", "path is /v1/spaces/<space>/messages"),
    ("https://chat.googleapis.com/v1/spaces/A/messages", "needs its key and token"),
    ("https://chat.googleapis.com/v1/spaces/A/messages?key=k", "needs its key and token"),
    ("https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=", "needs its key and token"),
    ("https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t&key=j", "once each"),
    ("https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t&redirect=http://x", "once each"),
    ("https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t&&", "once each"),
]


@pytest.mark.parametrize("url", TEAMS_GOOD)
def test_teams_urls_teams_hands_out_are_accepted(url):
    assert teams_webhook_url_error(url) is None


@pytest.mark.parametrize("url", GCHAT_GOOD)
def test_google_chat_webhook_urls_are_accepted(url):
    assert google_chat_webhook_url_error(url) is None


@pytest.mark.parametrize(("url", "why"), TEAMS_BAD)
def test_teams_refuses_with_the_reason(url, why):
    assert why in (teams_webhook_url_error(url) or "accepted")


@pytest.mark.parametrize(("url", "why"), GCHAT_BAD)
def test_google_chat_refuses_with_the_reason(url, why):
    assert why in (google_chat_webhook_url_error(url) or "accepted")


def test_the_extra_prefixes_admit_a_local_fake_and_nothing_more(settings):
    settings.TEAMS_WEBHOOK_EXTRA_URL_PREFIXES = ["http://127.0.0.1:8123/"]
    assert teams_webhook_url_error("http://127.0.0.1:8123/webhookb2/x") is None
    assert teams_webhook_url_error("http://127.0.0.1:8124/webhookb2/x") is not None
    assert teams_webhook_url_error("http://127.0.0.1:8123@evil.example/") is not None
    assert google_chat_webhook_url_error("http://127.0.0.1:8123/v1/spaces/A/messages?key=k&token=t") is not None


def test_production_admits_no_extra_prefix():
    from django.conf import settings as django_settings

    assert django_settings.TEAMS_WEBHOOK_EXTRA_URL_PREFIXES == []
    assert django_settings.GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES == []


# --- the channel API -----------------------------------------------------------------------------


def channels_url(workspace, pk=None, suffix=""):
    base = f"/api/v1/workspaces/{workspace.pk}/channels/"
    return base if pk is None else f"{base}{pk}/{suffix}"


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "url"), [("teams", TEAMS_GOOD[1]), ("gchat", GCHAT_GOOD[0])])
def test_create_and_read_back_masked(auth_client, workspace, kind, url):
    response = auth_client.post(channels_url(workspace), {"kind": kind, "webhook_url": url}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == kind
    assert "webhook_url" not in body
    assert url not in response.content.decode()
    assert body["webhook_url_masked"].startswith("https://")
    assert ChannelConfig.objects.get(pk=body["id"]).webhook_url == url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field", "why"),
    [
        ({"kind": "teams", "webhook_url": "https://evil.example/webhookb2/x"}, "webhook_url", "not a Microsoft Teams"),
        ({"kind": "teams", "webhook_url": "https://127.0.0.1/webhookb2/x"}, "webhook_url", "IP address"),
        ({"kind": "teams", "webhook_url": "http://contoso.webhook.office.com/webhookb2/x"}, "webhook_url", "https://"),
        ({"kind": "teams"}, "webhook_url", "Enter the webhook URL"),
        ({"kind": "teams", "webhook_url": TEAMS_GOOD[0], "bot_token": "xoxb-123456789012"}, "bot_token", "Not used"),
        (
            {"kind": "gchat", "webhook_url": "https://chat.googleapis.com/v1/spaces/A/messages?key=k"},
            "webhook_url",
            "key and token",
        ),
        ({"kind": "gchat", "webhook_url": TEAMS_GOOD[0]}, "webhook_url", "chat.googleapis.com"),
        ({"kind": "gchat", "webhook_url": GCHAT_GOOD[0], "rate_per_second": 1000}, "rate_per_second", "between"),
        ({"kind": "google_chat", "webhook_url": GCHAT_GOOD[0]}, "kind", ""),
    ],
)
def test_bad_input_is_a_400_naming_the_problem_and_writes_nothing(auth_client, workspace, payload, field, why):
    response = auth_client.post(channels_url(workspace), payload, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert field in errors
    assert why in str(errors[field])
    assert not ChannelConfig.objects.exists()


@pytest.mark.django_db
def test_an_update_to_a_refused_url_changes_nothing(auth_client, workspace):
    config = ChannelConfigFactory(workspace=workspace, kind="gchat", webhook_url=GCHAT_GOOD[0])

    response = auth_client.patch(
        channels_url(workspace, config.pk), {"webhook_url": "https://chat.googleapis.com.evil.example/"}, format="json"
    )

    assert response.status_code == 400
    assert "webhook_url" in response.json()["errors"]
    config.refresh_from_db()
    assert config.webhook_url == GCHAT_GOOD[0]


@pytest.mark.django_db
def test_the_api_test_message_goes_to_the_channel(auth_client, workspace, fake_google_chat):
    config = ChannelConfigFactory(workspace=workspace, kind="gchat", webhook_url=fake_google_chat.webhook_url())

    response = auth_client.post(channels_url(workspace, config.pk, "test"), {}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["provider"], body["recipient"]) == (True, "google_chat_webhook", "webhook")
    assert body["provider_message_id"].startswith("spaces/")
    assert "test message" in fake_google_chat.texts()[0]


@pytest.mark.django_db
def test_the_api_test_message_reports_the_refusal(auth_client, workspace, fake_teams):
    config = ChannelConfigFactory(workspace=workspace, kind="teams", webhook_url=fake_teams.workflow_url())
    fake_teams.script(Reply(404, {"error": {"code": "WorkflowNotFound", "message": "The workflow was not found."}}))

    body = auth_client.post(channels_url(workspace, config.pk, "test"), {}, format="json").json()

    assert (body["ok"], body["outcome"], body["status_code"]) == (False, "permanent", 404)
    assert body["detail"] == "webhook_not_found: WorkflowNotFound: The workflow was not found."


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_admin_channel_test_posts_and_says_so(staff_client, fake_teams):
    config = ChannelConfigFactory(kind="teams", webhook_url=fake_teams.webhook_url())
    page = staff_client.get(reverse("admin:notifications_channelconfig_change", args=[config.pk]))
    assert page.status_code == 200
    assert "Send test to the channel" in page.content.decode()

    response = staff_client.post(
        reverse("admin:notifications_channelconfig_send_test", args=[config.pk]), {"recipient": "ignored"}, follow=True
    )

    assert response.status_code == 200
    assert "Sent. Microsoft Teams accepted the test message to webhook." in response.content.decode()
    assert len(fake_teams.received) == 1


@pytest.mark.django_db
def test_admin_channel_test_explains_a_refusal(staff_client, fake_google_chat):
    config = ChannelConfigFactory(kind="gchat", webhook_url=fake_google_chat.webhook_url())
    fake_google_chat.script(Reply(403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}))

    response = staff_client.post(reverse("admin:notifications_channelconfig_send_test", args=[config.pk]), follow=True)

    text = response.content.decode()
    assert "Not sent to webhook: Google Chat refused it: the webhook refused our request" in text


@pytest.mark.django_db
def test_admin_refuses_a_url_outside_the_allow_list_and_writes_nothing(staff_client):
    workspace = WorkspaceFactory()
    response = staff_client.post(
        reverse("admin:notifications_channelconfig_add"),
        {"workspace": workspace.pk, "kind": "teams", "active": "on", "webhook_url": "https://127.0.0.1/webhookb2/x"},
    )

    assert response.status_code == 200
    assert "must name a host, not an IP address" in response.content.decode()
    assert not ChannelConfig.objects.exists()


# --- the digest and the workspace channel ---------------------------------------------------------


def _workspace_with_birthday_today(**configs):
    workspace = WorkspaceFactory(timezone="UTC", notify_at=time(9))
    MembershipFactory(workspace=workspace, user=UserFactory(), role=Role.OWNER)
    for kind, url in configs.items():
        ChannelConfigFactory(workspace=workspace, kind=kind, webhook_url=url)
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    day = digest.next_run_at.date()
    PersonFactory(
        workspace=workspace, name="<users/all> *Ana*", birth_month=day.month, birth_day=day.day, slack_user_id="U0ANA"
    )
    return workspace, digest


@pytest.mark.django_db
def test_the_digest_reaches_every_configured_team_chat_once_with_plain_names(fake_teams, fake_google_chat):
    """GIVEN a workspace with Teams and Google Chat set up (no Slack) and a digest naming no channels
    WHEN the tick runs at notify_at, twice
    THEN one digest row per team chat is written (plain names, no Slack mention), each is delivered
    to its fake with the name escaped, and the second tick writes nothing."""
    workspace, digest = _workspace_with_birthday_today(
        teams=fake_teams.workflow_url(), gchat=fake_google_chat.webhook_url()
    )

    tick(now=digest.next_run_at + timedelta(seconds=5))
    tick(now=digest.next_run_at + timedelta(seconds=65))

    rows = {row.channel: row for row in Notification.objects.filter(workspace=workspace)}
    assert set(rows) == {"teams", "gchat"}
    for row in rows.values():
        assert row.recipient == "webhook"
        assert "<users/all> *Ana*" in row.body  # plain text in the outbox; escaped by the provider
        assert "<@U0ANA>" not in row.body
        assert notification_deliver(notification_id=row.pk) == "sent"
    [teams_text] = fake_teams.texts()
    assert r"\<users/all\> \*Ana\*" in teams_text
    [chat_text] = fake_google_chat.texts()
    assert "&lt;users/all&gt; *Ana*" in chat_text


@pytest.mark.django_db
def test_a_digest_naming_its_channels_posts_only_there(fake_teams, fake_google_chat):
    workspace, digest = _workspace_with_birthday_today(
        teams=fake_teams.workflow_url(), gchat=fake_google_chat.webhook_url()
    )
    reminder_update(reminder=digest, data={"channels": ["gchat"]})
    digest.refresh_from_db()

    tick(now=digest.next_run_at + timedelta(seconds=5))

    assert list(Notification.objects.filter(workspace=workspace).values_list("channel", flat=True)) == ["gchat"]


@pytest.mark.django_db
def test_a_digest_may_not_name_an_unknown_channel(auth_client, workspace):
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    url = f"/api/v1/workspaces/{workspace.pk}/reminders/{digest.pk}/"

    assert auth_client.patch(url, {"channels": ["sms"]}, format="json").status_code == 400
    response = auth_client.patch(url, {"channels": ["teams", "email"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["channels"] == ["teams", "email"]


@pytest.mark.django_db
def test_a_workspace_channel_reminder_posts_to_the_team_chats_it_names(fake_teams):
    workspace = WorkspaceFactory(timezone="UTC")
    ChannelConfigFactory(workspace=workspace, kind="teams", webhook_url=fake_teams.webhook_url())
    reminder = reminder_create(
        workspace=workspace,
        data={
            "kind": ReminderKind.ONE_TIME,
            "name": "Standup moved",
            "message": "Standup is at 10 today",
            "audience": Audience.WORKSPACE_CHANNEL,
            "channels": ["teams"],
            "run_at": timezone.now() + timedelta(hours=1),
        },
    )

    tick(now=reminder.next_run_at + timedelta(seconds=5))

    [row] = Notification.objects.filter(reminder=reminder)
    assert (row.channel, row.recipient) == ("teams", "webhook")
    assert notification_deliver(notification_id=row.pk) == "sent"
    assert "Standup is at 10 today" in fake_teams.texts()[0]


@pytest.mark.django_db
def test_people_cannot_prefer_a_team_chat(auth_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/people/"

    response = auth_client.post(url, {"name": "Ana", "preferred_channels": ["teams"]}, format="json")

    assert response.status_code == 400
    assert "preferred_channels" in response.json()["errors"]


@pytest.mark.django_db
def test_digests_name_every_team_chat_and_the_old_default_is_moved_to_it():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reminders.migrations.0007_digest_posts_to_every_team_chat")
    new, untouched, edited = WorkspaceFactory(), WorkspaceFactory(), WorkspaceFactory()
    digests = Reminder.objects.filter(kind=ReminderKind.BIRTHDAY_DIGEST)
    assert digests.get(workspace=new).channels == ["slack", "teams", "gchat", "email"]
    digests.filter(workspace=untouched).update(channels=["slack", "email"])
    digests.filter(workspace=edited).update(channels=["email"])

    migration.forwards(apps, None)

    assert digests.get(workspace=untouched).channels == ["slack", "teams", "gchat", "email"]
    assert digests.get(workspace=edited).channels == ["email"]
    migration.backwards(apps, None)
    assert digests.get(workspace=untouched).channels == ["slack", "email"]
