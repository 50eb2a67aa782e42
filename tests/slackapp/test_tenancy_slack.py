"""Tenancy for Slack's requests: a request signed for team A never reads or changes workspace B.

Workspace Beta (team T0BETA) knows a person with the *same* Slack user id and email as one of
Alpha's, with a secret name. Every kind of request Slack can send, signed for Alpha's team, is
run through to its queued work; Beta's rows must stay exactly as they were and nothing sent to
Slack may mention Beta's secret.
"""

import json

import pytest

from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.slackapp.factories import SlackInstallationFactory
from tests.test_tenancy import workspace_data
from workspaces.models import Role

pytestmark = pytest.mark.django_db

BETA_SECRET = "Beta Hidden Person"


@pytest.fixture
def beta(alpha):
    workspace = WorkspaceFactory(name="Beta Confidential")
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    SlackInstallationFactory(workspace=workspace, team_id="T0BETA", bot_token="xoxb-beta-token")
    # The same Slack id and email as Alpha's Bo (a Slack Connect user, or a reused id).
    PersonFactory(
        workspace=workspace, name=BETA_SECRET, email="bo@alpha.example", slack_user_id="UBO", birth_month=1, birth_day=2
    )
    PersonFactory(
        workspace=workspace, name="Beta Without Dates", slack_user_id="UBETA2", birth_month=None, birth_day=None
    )
    return workspace


def _requests(slack_api):
    response_url = slack_api.url + "/commands/T0ALPHA/1/abc"
    commands = ["set 14 July 1990", "clear", "pause", "resume", "upcoming", "", "help", "nonsense"]
    interactions = [
        {"type": "block_actions", "actions": [{"action_id": action}], "view": {"type": "home"}}
        for action in (
            "profile_edit",
            "profile_show_age",
            "profile_hide_age",
            "profile_pause",
            "profile_resume",
            "consent_accept",
            "consent_decline",
            "workspace_settings_open",
        )
    ]
    interactions.append(
        {
            "type": "view_submission",
            "view": {
                "callback_id": "birthday_profile",
                "state": {
                    "values": {
                        "birthday": {"birthday_date": {"selected_date": "1991-03-04"}},
                        "show_age": {"show_age_choice": {"selected_option": {"value": "yes"}}},
                    }
                },
            },
        }
    )
    interactions.append(
        {
            "type": "view_submission",
            "view": {
                "callback_id": "workspace_settings",
                "private_metadata": "",
                "state": {"values": {"holiday_country": {"holiday_country_code": {"value": "AT"}}}},
            },
        }
    )
    events = [
        {"type": "app_home_opened", "user": "UBO", "tab": "home"},
        {
            "type": "user_change",
            "user": {
                "id": "UBO",
                "team_id": "T0ALPHA",
                "deleted": True,
                "tz": "Asia/Tokyo",
                "profile": {"email": "bo@alpha.example", "display_name": "probe"},
            },
        },
        {"type": "user_change", "user": {"id": "UBETA2", "team_id": "T0BETA", "deleted": True, "profile": {}}},
        {"type": "tokens_revoked"},
    ]
    return response_url, commands, interactions, events


def test_requests_signed_for_alpha_never_touch_beta(alpha, beta, slack, slack_api, run_tasks):
    before = workspace_data(beta)
    response_url, commands, interactions, events = _requests(slack_api)
    for text in commands:
        assert slack.command("T0ALPHA", "UBO", text, response_url=response_url).status_code == 200
        run_tasks()
    for number, payload in enumerate(interactions):
        payload = {
            **payload,
            "team": {"id": "T0ALPHA"},
            "user": {"id": "UBO", "team_id": "T0ALPHA"},
            "trigger_id": "1.2.3",
            "response_url": response_url,
        }
        assert slack.interaction(payload).status_code == 200, number
        run_tasks()
    for number, event in enumerate(events):
        body = {"type": "event_callback", "team_id": "T0ALPHA", "event_id": f"EvT{number}", "event": event}
        assert slack.event(body).status_code == 200
        run_tasks()

    assert workspace_data(beta) == before, "a request signed for Alpha's team changed Beta"
    sent = json.dumps([item.body for item in slack_api.received])
    assert BETA_SECRET not in sent
    assert all(item.headers.get("Authorization") != "Bearer xoxb-beta-token" for item in slack_api.received)
    # Positive control: the requests did act — on Alpha.
    alpha["bo"].refresh_from_db()
    assert alpha["bo"].slack_deactivated_at is not None
    assert alpha["bo"].timezone == "Asia/Tokyo"
    alpha["installation"].refresh_from_db()
    assert not alpha["installation"].active


def test_a_team_cannot_claim_another_teams_workspace_by_naming_it(alpha, beta, slack, slack_api, run_tasks):
    """The team comes from the signed body; a user id or a workspace id in it changes nothing."""
    before = workspace_data(beta)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBETA2", "team_id": "T0BETA"},
        "workspace_id": str(beta.pk),
        "actions": [{"action_id": "profile_pause"}],
    }
    assert slack.interaction(payload).status_code == 200
    run_tasks()
    assert workspace_data(beta) == before
