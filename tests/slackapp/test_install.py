"""Installing the app: the API's "Add to Slack" link, Slack's redirect back, uninstall events."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone as dj_timezone

from notifications.models import ChannelConfig
from slackapp.models import SlackInstallation, SlackOAuthState
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.slackapp.factories import SlackInstallationFactory
from tests.slackapp.fakes import BOT_TOKEN, basic_auth
from workspaces.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_and_workspace(slack_api):
    workspace = WorkspaceFactory(name="Gamma")
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    return owner, workspace


def _install_url(owner, workspace) -> str:
    response = client_for(owner).post(f"/api/v1/workspaces/{workspace.id}/slack/install-url")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def test_install_url_names_the_app_scopes_and_redirect(owner_and_workspace):
    owner, workspace = owner_and_workspace
    url = _install_url(owner, workspace)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://slack.com/oauth/v2/authorize?")
    assert query["client_id"] == ["1111.2222"]
    assert "commands" in query["scope"][0]
    assert "incoming-webhook" in query["scope"][0]
    assert query["redirect_uri"] == ["https://bb.example.com/slack/oauth/callback"]
    row = SlackOAuthState.objects.get()
    assert (row.workspace, row.user) == (workspace, owner)
    assert _state(url) not in row.state_hash  # only the hash is kept


def test_members_may_not_get_an_install_url(owner_and_workspace):
    _, workspace = owner_and_workspace
    member = UserFactory()
    MembershipFactory(workspace=workspace, user=member, role=Role.MEMBER)
    assert client_for(member).post(f"/api/v1/workspaces/{workspace.id}/slack/install-url").status_code == 403
    assert not SlackOAuthState.objects.exists()


def test_callback_installs_stores_the_token_encrypted_and_connects_the_channel(
    owner_and_workspace, client, run_tasks, slack_api, django_capture_on_commit_callbacks
):
    owner, workspace = owner_and_workspace
    state = _state(_install_url(owner, workspace))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert response.status_code == 200
    assert "BirthdayBuddy is in Slack" in response.content.decode()
    assert "#celebrations" in response.content.decode()

    installation = SlackInstallation.objects.get(workspace=workspace)
    assert (installation.team_id, installation.channel_id, installation.bot_token) == ("T0ALPHA", "C0CELEB", BOT_TOKEN)
    assert installation.installed_by == owner
    assert installation.active
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT bot_token FROM slackapp_slackinstallation WHERE id = %s", [installation.pk])
        stored = cursor.fetchone()[0]
    assert BOT_TOKEN not in stored  # encrypted at rest

    exchange = slack_api.calls("oauth.v2.access")[-1]
    assert exchange.body["code"] == "good-code"
    assert basic_auth(exchange.headers) == ("1111.2222", "client-secret-abc")
    config = ChannelConfig.objects.get(workspace=workspace, kind="slack")
    assert (config.bot_token, config.channel_id, config.active) == (BOT_TOKEN, "C0CELEB", True)
    assert "slackapp.directory_sync" in run_tasks()  # the directory is read right after installing


def test_state_is_single_use(owner_and_workspace, client):
    owner, workspace = owner_and_workspace
    state = _state(_install_url(owner, workspace))
    assert client.get("/slack/oauth/callback", {"code": "good-code", "state": state}).status_code == 200
    again = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert again.status_code == 400
    assert "already used" in again.content.decode()


@pytest.mark.parametrize("state", ["", "x" * 40, "short"])
def test_unknown_state_is_refused_and_nothing_is_exchanged(owner_and_workspace, client, slack_api, state):
    response = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert response.status_code == 400
    assert "<html" in response.content.decode()
    assert not SlackInstallation.objects.exists()
    assert not slack_api.calls("oauth.v2.access")


def test_expired_state_is_refused(owner_and_workspace, client):
    owner, workspace = owner_and_workspace
    state = _state(_install_url(owner, workspace))
    SlackOAuthState.objects.update(expires_at=dj_timezone.now() - timedelta(seconds=1))
    response = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert not SlackInstallation.objects.exists()


def test_state_of_an_admin_demoted_since_is_refused(owner_and_workspace, client):
    _owner, workspace = owner_and_workspace
    admin = UserFactory()
    membership = MembershipFactory(workspace=workspace, user=admin, role=Role.ADMIN)
    state = _state(_install_url(admin, workspace))
    membership.role = Role.MEMBER
    membership.save()
    response = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert response.status_code == 400
    assert "no longer an admin" in response.content.decode()
    assert not SlackInstallation.objects.exists()


def test_a_bad_code_is_refused(owner_and_workspace, client):
    owner, workspace = owner_and_workspace
    state = _state(_install_url(owner, workspace))
    response = client.get("/slack/oauth/callback", {"code": "stolen-code", "state": state})
    assert response.status_code == 400
    assert "did not accept" in response.content.decode()
    assert not SlackInstallation.objects.exists()


def test_cancel_on_slacks_page_installs_nothing(owner_and_workspace, client):
    owner, workspace = owner_and_workspace
    state = _state(_install_url(owner, workspace))
    response = client.get("/slack/oauth/callback", {"error": "access_denied", "state": state})
    assert response.status_code == 200
    assert "cancelled" in response.content.decode()
    assert not SlackInstallation.objects.exists()
    assert SlackOAuthState.objects.get().used_at is not None


def test_a_team_bound_to_another_workspace_is_refused(owner_and_workspace, client):
    owner, workspace = owner_and_workspace
    other = SlackInstallationFactory(team_id="T0ALPHA", bot_token="xoxb-other")
    state = _state(_install_url(owner, workspace))
    response = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert response.status_code == 409
    assert "connected to another BirthdayBuddy workspace" in response.content.decode()
    assert not SlackInstallation.objects.filter(workspace=workspace).exists()
    other.refresh_from_db()
    assert other.bot_token == "xoxb-other"
    assert not ChannelConfig.objects.filter(workspace=workspace).exists()


def test_reinstall_updates_and_reactivates(owner_and_workspace, client, slack_api):
    owner, workspace = owner_and_workspace
    SlackInstallationFactory(
        workspace=workspace, team_id="T0ALPHA", bot_token="xoxb-old", active=False, channel_id="C0OLD"
    )
    state = _state(_install_url(owner, workspace))
    response = client.get("/slack/oauth/callback", {"code": "good-code", "state": state})
    assert response.status_code == 200
    assert "installed again" in response.content.decode()
    installation = SlackInstallation.objects.get(workspace=workspace)
    assert (installation.bot_token, installation.channel_id, installation.active) == (BOT_TOKEN, "C0CELEB", True)


def test_a_webhook_channel_is_left_alone(owner_and_workspace, client, slack_api):
    owner, workspace = owner_and_workspace
    webhook = slack_api.url + "/services/T000/B000/XXXX"
    ChannelConfig.objects.create(workspace=workspace, kind="slack", webhook_url=webhook)
    state = _state(_install_url(owner, workspace))
    assert client.get("/slack/oauth/callback", {"code": "good-code", "state": state}).status_code == 200
    config = ChannelConfig.objects.get(workspace=workspace, kind="slack")
    assert (config.webhook_url, config.bot_token) == (webhook, None)


@pytest.mark.parametrize("event_type", ["app_uninstalled", "tokens_revoked"])
def test_uninstall_events_deactivate(alpha, slack, run_tasks, event_type):
    installation = alpha["installation"]
    ChannelConfig.objects.create(workspace=alpha["workspace"], kind="slack", bot_token=BOT_TOKEN, channel_id="C0CELEB")
    response = slack.event(
        {"type": "event_callback", "team_id": "T0ALPHA", "event_id": f"Ev-{event_type}", "event": {"type": event_type}}
    )
    assert response.status_code == 200
    assert run_tasks() == ["slackapp.event"]
    installation.refresh_from_db()
    assert not installation.active
    assert installation.deactivated_at is not None
    assert not ChannelConfig.objects.get(workspace=alpha["workspace"]).active
    # Deactivated: the team's commands are answered politely, nothing queued.
    answer = slack.command("T0ALPHA", "UBO", "set 14 July")
    assert answer.status_code == 200
    assert "not connected" in answer.json()["text"]
    assert run_tasks() == []


def test_staff_add_to_slack_in_the_admin(owner_and_workspace, client, staff_user):
    _, workspace = owner_and_workspace
    client.force_login(staff_user)
    chosen = client.get("/admin/slackapp/slackinstallation/add/", {"workspace": str(workspace.pk)})
    assert chosen.status_code == 200
    assert "Add to Slack" in chosen.content.decode()
    assert not SlackOAuthState.objects.exists()  # a GET changes nothing
    response = client.post("/admin/slackapp/slackinstallation/add/", {"workspace": str(workspace.pk)})
    assert response.status_code == 302
    assert response["Location"].startswith("https://slack.com/oauth/v2/authorize?")
    state = _state(response["Location"])
    assert client.get("/slack/oauth/callback", {"code": "good-code", "state": state}).status_code == 200
    assert SlackInstallation.objects.get(workspace=workspace).installed_by == staff_user


def test_install_url_without_client_id_is_a_clear_400(owner_and_workspace, settings):
    owner, workspace = owner_and_workspace
    settings.SLACK_CLIENT_ID = ""
    response = client_for(owner).post(f"/api/v1/workspaces/{workspace.id}/slack/install-url")
    assert response.status_code == 400
    assert "SLACK_CLIENT_ID" in response.content.decode()


def test_the_outcome_page_speaks_the_workspaces_language(owner_and_workspace, client):
    owner, workspace = owner_and_workspace
    workspace.locale = "de"
    workspace.save()
    state = _state(_install_url(owner, workspace))
    page = client.get("/slack/oauth/callback", {"code": "good-code", "state": state}).content.decode()
    assert "BirthdayBuddy ist in Slack" in page
    assert "Glückwünsche werden in #celebrations gepostet." in page


def test_the_outcome_pages_speak_the_installing_admins_own_language(owner_and_workspace, client):
    """GIVEN an English workspace whose owner reads German, WHEN they install, cancel or are refused,
    THEN each page is German; the same pages for an admin without a language of their own stay English."""
    owner, workspace = owner_and_workspace
    PersonFactory(workspace=workspace, user=owner, name="Olga Owner", email=owner.email, language="de")
    english_admin = UserFactory()
    MembershipFactory(workspace=workspace, user=english_admin, role=Role.ADMIN)

    def page(user, **query) -> str:
        state = _state(_install_url(user, workspace))
        return client.get("/slack/oauth/callback", {"state": state, **query}).content.decode()

    installed = page(owner, code="good-code")
    assert "BirthdayBuddy ist in Slack" in installed
    assert "Glückwünsche werden in #celebrations gepostet." in installed
    assert "Installation abgebrochen" in page(owner, error="access_denied")
    assert "Slack hat die Installation nicht angenommen" in page(owner, code="stolen-code")
    assert "Installation cancelled" in page(english_admin, error="access_denied")
    assert "Slack did not accept the installation" in page(english_admin, code="stolen-code")


def test_the_installation_is_audited_with_its_bot_token_masked(
    owner_and_workspace, client, slack_api, django_capture_on_commit_callbacks
):
    from auditlog.models import LogEntry

    owner, workspace = owner_and_workspace
    state = _state(_install_url(owner, workspace))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get("/slack/oauth/callback", {"code": "good-code", "state": state}).status_code == 200

    response = client_for(owner).get(
        f"/api/v1/workspaces/{workspace.pk}/audit/", {"model": "slackapp.slackinstallation"}
    )
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == ["create"]
    assert rows[0]["changes"]["team_id"] == [None, "T0ALPHA"]
    assert rows[0]["changes"]["bot_token"][1] == "********"
    stored = str(list(LogEntry.objects.values_list("changes", "serialized_data", "changes_text")))
    assert BOT_TOKEN not in stored
