"""Local stand-ins for Microsoft Teams and Google Chat incoming webhooks, and their fixtures.

Each records every request (``fake.received``) and answers like the real service unless a
reply is scripted (``fake.script(Reply(429, …), …)``). The settings' extra URL prefixes admit
the fakes' ``http://127.0.0.1:<port>/`` addresses; production's host rules stay as they are.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.notifications.fakes import Reply, _FakeServer


class FakeTeams(_FakeServer):
    """A Teams incoming webhook (``/webhookb2/…``: 200 ``1``) and a Workflows webhook (``/workflows/…``: 202)."""

    def webhook_url(self) -> str:
        return f"{self.url}/webhookb2/{uuid.uuid4()}@{uuid.uuid4()}/IncomingWebhook/{uuid.uuid4().hex}/{uuid.uuid4()}"

    def workflow_url(self) -> str:
        return f"{self.url}/workflows/{uuid.uuid4().hex}/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t"

    def success(self, path: str, body: dict) -> Reply:
        return Reply(202, "") if path.startswith("/workflows/") else Reply(200, "1")

    def texts(self) -> list[str]:
        """The text of every TextBlock of every card received, one string per request."""
        found = []
        for item in self.received:
            [attachment] = item.body["attachments"]
            found.append("\n".join(block["text"] for block in attachment["content"]["body"]))
        return found


class FakeGoogleChat(_FakeServer):
    """``POST /v1/spaces/<space>/messages?key=…&token=…``, answering the created message like Chat."""

    def webhook_url(self, space: str | None = None) -> str:
        space = space or "AAAA" + uuid.uuid4().hex[:7]
        return f"{self.url}/v1/spaces/{space}/messages?key=AIzaSyFAKEKEY&token=fake-token-{uuid.uuid4().hex[:8]}"

    def success(self, path: str, body: dict) -> Reply:
        space = re.search(r"/spaces/([^/]+)/", path)
        name = f"spaces/{space[1] if space else 'X'}/messages/{uuid.uuid4().hex[:12]}"
        return Reply(200, {"name": name, "cardsV2": body.get("cardsV2", [])})

    def texts(self) -> list[str]:
        return [
            item.body["cardsV2"][0]["card"]["sections"][0]["widgets"][0]["textParagraph"]["text"]
            for item in self.received
        ]


@pytest.fixture(scope="session")
def _teams_server():
    server = FakeTeams().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _google_chat_server():
    server = FakeGoogleChat().start()
    yield server
    server.stop()


@pytest.fixture
def fake_teams(_teams_server, settings):
    _teams_server.reset()
    settings.TEAMS_WEBHOOK_EXTRA_URL_PREFIXES = [_teams_server.url + "/"]
    settings.CHAT_WEBHOOK_TIMEOUT_SECONDS = 1
    yield _teams_server
    _teams_server.reset()


@pytest.fixture
def fake_google_chat(_google_chat_server, settings):
    _google_chat_server.reset()
    settings.GOOGLE_CHAT_WEBHOOK_EXTRA_URL_PREFIXES = [_google_chat_server.url + "/v1/spaces/"]
    settings.CHAT_WEBHOOK_TIMEOUT_SECONDS = 1
    yield _google_chat_server
    _google_chat_server.reset()
