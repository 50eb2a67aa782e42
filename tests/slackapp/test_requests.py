"""Requests from Slack: signed with the signing secret inside the 5-minute window, answered at
once with the work queued, idempotent on Slack's retries, routed to the team's own workspace."""

import json
import time
from urllib.parse import urlencode

import pytest

from slackapp.models import SlackEventReceipt
from tests.slackapp.conftest import signed_headers

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/slack/commands", "/slack/interactivity", "/slack/events"]


def _body(path: str) -> tuple[bytes, str]:
    if path == "/slack/events":
        event = {
            "type": "event_callback",
            "team_id": "T0ALPHA",
            "event_id": "Ev1",
            "event": {"type": "app_uninstalled"},
        }
        return json.dumps(event).encode(), "application/json"
    if path == "/slack/interactivity":
        payload = {"type": "block_actions", "team": {"id": "T0ALPHA"}, "user": {"id": "UBO"}, "actions": []}
        return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    return urlencode(
        {"team_id": "T0ALPHA", "user_id": "UBO", "text": "pause"}
    ).encode(), "application/x-www-form-urlencoded"


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "forge",
    ["unsigned", "wrong_secret", "stale", "future", "tampered", "bad_timestamp"],
)
def test_forged_replayed_or_stale_requests_get_401_and_change_nothing(alpha, slack, run_tasks, path, forge):
    body, content_type = _body(path)
    now = int(time.time())
    headers = {
        "unsigned": {},
        "wrong_secret": signed_headers(body, secret="not-the-secret"),
        "stale": signed_headers(body, timestamp=now - 400),  # a replay from more than 5 minutes ago
        "future": signed_headers(body, timestamp=now + 400),
        "tampered": signed_headers(body + b"&x=1"),
        "bad_timestamp": {**signed_headers(body), "HTTP_X_SLACK_REQUEST_TIMESTAMP": "yesterday"},
    }[forge]
    response = slack.client.generic("POST", path, body, content_type, **headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert run_tasks() == []
    assert not SlackEventReceipt.objects.exists()
    alpha["installation"].refresh_from_db()
    assert alpha["installation"].active


def test_no_signing_secret_configured_refuses_everything(alpha, slack, settings, run_tasks):
    settings.SLACK_SIGNING_SECRET = ""
    assert slack.command("T0ALPHA", "UBO", "pause").status_code == 401
    assert run_tasks() == []


def test_a_request_within_the_window_is_accepted(alpha, slack, run_tasks):
    body, content_type = _body("/slack/commands")
    headers = signed_headers(body, timestamp=int(time.time()) - 240)
    response = slack.client.generic("POST", "/slack/commands", body, content_type, **headers)
    assert response.status_code == 200
    assert run_tasks() == ["slackapp.command"]


def test_url_verification_answers_the_challenge(db, slack, slack_api):
    response = slack.event(
        {"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_event_retries_are_taken_in_once(alpha, slack, run_tasks):
    event = {
        "type": "event_callback",
        "team_id": "T0ALPHA",
        "event_id": "Ev42",
        "event": {"type": "app_home_opened", "user": "UBO"},
    }
    assert slack.event(event).status_code == 200
    retry = slack.event(event, HTTP_X_SLACK_RETRY_NUM="1", HTTP_X_SLACK_RETRY_REASON="http_timeout")
    assert retry.status_code == 200
    assert run_tasks() == ["slackapp.event"]
    assert SlackEventReceipt.objects.filter(event_id="Ev42").count() == 1


def test_unknown_team_gets_a_polite_answer_and_nothing_is_done(alpha, slack, run_tasks):
    response = slack.command("T0UNKNOWN", "UBO", "set 14 July")
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral"
    assert "not connected" in response.json()["text"]
    event = {"type": "event_callback", "team_id": "T0UNKNOWN", "event_id": "Ev9", "event": {"type": "app_uninstalled"}}
    assert slack.event(event).status_code == 200
    assert run_tasks() == []
    assert not SlackEventReceipt.objects.exists()
    alpha["bo"].refresh_from_db()
    assert alpha["bo"].birth_month is None


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/slack/events", b"not json", "application/json"),
        ("/slack/events", b"[1, 2]", "application/json"),
        ("/slack/interactivity", b"payload=not-json", "application/x-www-form-urlencoded"),
        ("/slack/interactivity", b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_signed_bodies_get_400(alpha, slack, run_tasks, path, body, content_type):
    response = slack.post(path, body, content_type)
    assert response.status_code == 400
    assert run_tasks() == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_get_is_not_allowed(client, path):
    assert client.get(path).status_code == 405


def test_help_is_answered_at_once(alpha, slack, run_tasks):
    response = slack.command("T0ALPHA", "UBO", "help")
    assert response.status_code == 200
    assert "/birthday set 14 July" in response.json()["text"]
    assert run_tasks() == []


def test_the_command_name_is_a_setting(alpha, slack, settings):
    settings.SLACK_COMMAND_NAME = "/bday"
    assert "/bday set 14 July" in slack.command("T0ALPHA", "UBO", "help").json()["text"]


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "team": "T0ALPHA", "user": "UBO", "actions": "profile_pause"},
        {
            "type": "block_actions",
            "team": {"id": 42},
            "user": {"id": ["UBO"]},
            "actions": [1, None, {"action_id": {"x": 1}}],
        },
        {"type": "view_submission", "team": {"id": "T0ALPHA"}, "user": {"id": "UBO"}, "view": "nope"},
        {
            "type": "view_submission",
            "team": {"id": "T0ALPHA"},
            "user": {"id": "UBO"},
            "view": {
                "callback_id": "birthday_profile",
                "state": {"values": {"birthday": {"birthday_date": {"selected_date": "2024-02-30"}}}},
            },
        },
        {"type": 7},
    ],
)
def test_odd_but_signed_interactions_never_fail(alpha, slack, run_tasks, payload):
    response = slack.interaction(payload)
    assert response.status_code in (200, 400)
    run_tasks()
    alpha["bo"].refresh_from_db()
    assert alpha["bo"].consent == "active"
    assert alpha["bo"].birth_month is None


@pytest.mark.parametrize(
    "body",
    [
        {"type": "event_callback", "team_id": ["T0ALPHA"], "event_id": "Ev1", "event": {"type": "tokens_revoked"}},
        {"type": "event_callback", "team_id": "T0ALPHA", "event_id": 12, "event": {"type": "tokens_revoked"}},
        {"type": "event_callback", "team_id": "T0ALPHA", "event_id": "Ev2", "event": "tokens_revoked"},
    ],
)
def test_odd_but_signed_events_never_fail(alpha, slack, run_tasks, body):
    assert slack.event(body).status_code in (200, 400)
    run_tasks()
    alpha["installation"].refresh_from_db()
    assert alpha["installation"].active
