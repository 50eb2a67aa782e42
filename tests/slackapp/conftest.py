import json
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from birthdaybuddy.celery import app as celery_app
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.slackapp.factories import SlackInstallationFactory
from tests.slackapp.fakes import FakeSlackApi
from workspaces.models import Role

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(scope="session")
def _slack_api_server():
    server = FakeSlackApi().start()
    yield server
    server.stop()


@pytest.fixture
def slack_api(_slack_api_server, settings):
    """The fake Slack Web API; the app's settings point at it, the signing secret is known."""
    _slack_api_server.reset()
    settings.SLACK_API_BASE_URL = _slack_api_server.api_url
    settings.SLACK_WEBHOOK_URL_PREFIXES = [_slack_api_server.url + "/"]
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_CLIENT_ID = "1111.2222"
    settings.SLACK_CLIENT_SECRET = "client-secret-abc"
    settings.SLACK_TIMEOUT_SECONDS = 5
    settings.PUBLIC_BASE_URL = "https://bb.example.com"
    yield _slack_api_server
    _slack_api_server.reset()


def signed_headers(body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict:
    """The headers Slack sends, computed with slack-sdk's implementation of Slack's algorithm."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": str(timestamp), "HTTP_X_SLACK_SIGNATURE": signature}


class SlackSender:
    """Posts to our Slack endpoints as Slack does (form or JSON, signed)."""

    def __init__(self, client):
        self.client = client

    def command(self, team_id: str, user_id: str, text: str = "", response_url: str = "", **headers):
        body = urlencode(
            {
                "team_id": team_id,
                "user_id": user_id,
                "command": "/birthday",
                "text": text,
                "trigger_id": "1337.42.abcd",
                "response_url": response_url,
            }
        ).encode()
        return self.post("/slack/commands", body, "application/x-www-form-urlencoded", **headers)

    def interaction(self, payload: dict, **headers):
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post("/slack/interactivity", body, "application/x-www-form-urlencoded", **headers)

    def event(self, payload: dict, **headers):
        return self.post("/slack/events", json.dumps(payload).encode(), "application/json", **headers)

    def post(self, path: str, body: bytes, content_type: str, **headers):
        signed = headers.pop("signed", None) or signed_headers(body)
        return self.client.generic("POST", path, body, content_type, **{**signed, **headers})


@pytest.fixture
def slack(client):
    return SlackSender(client)


def run_queued() -> list[str]:
    """Runs every task queued so far in this process (the real task code), in order; their names."""
    names = []
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            args, kwargs, _ = message.payload
            name = message.headers["task"]
            message.ack()
            celery_app.tasks[name](*args, **kwargs)
            names.append(name)
        queue.close()
    return names


@pytest.fixture
def run_tasks():
    run_queued()  # whatever an earlier test left
    return run_queued


@pytest.fixture
def alpha(db, slack_api):
    """Workspace Alpha installed in Slack team T0ALPHA, with an admin and a member known by Slack id."""
    workspace = WorkspaceFactory(name="Alpha", timezone="Europe/Berlin")
    admin = UserFactory(email="ada@alpha.example")
    MembershipFactory(workspace=workspace, user=admin, role=Role.ADMIN)
    member = UserFactory(email="bo@alpha.example")
    MembershipFactory(workspace=workspace, user=member, role=Role.MEMBER)
    installation = SlackInstallationFactory(workspace=workspace, team_id="T0ALPHA")
    ada = PersonFactory(workspace=workspace, user=admin, name="Ada Admin", email=admin.email, slack_user_id="UADA")
    bo = PersonFactory(
        workspace=workspace,
        user=member,
        name="Bo Member",
        email=member.email,
        slack_user_id="UBO",
        birth_month=None,
        birth_day=None,
        birth_year=None,
        joined_on=None,
    )
    return {
        "workspace": workspace,
        "installation": installation,
        "admin": admin,
        "member": member,
        "ada": ada,
        "bo": bo,
    }
