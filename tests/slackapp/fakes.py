"""A local fake of Slack's Web API (and its response_url / webhook endpoints) on 127.0.0.1 and a
random port, driven by the real slack-sdk client (``SLACK_API_BASE_URL`` points at it).

Built on the notifications tests' fake server (scripted replies, every request recorded);
adds GET (users.list and users.lookupByEmail are GET calls in slack-sdk) and answers each
method like Slack does on success, from a small in-memory directory.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlsplit

from tests.notifications.fakes import FakeSlack, Received, Reply

BOT_TOKEN = "xoxb-fake-bot-token-0001"


class FakeSlackApi(FakeSlack):
    """``/api/<method>`` like Slack's Web API; any other path answers ``ok`` (response_url, webhooks)."""

    def __init__(self):
        super().__init__()
        self.users: list[dict] = []
        self.oauth_team = {"id": "T0ALPHA", "name": "Alpha Slack"}
        self.oauth_channel = {"channel_id": "C0CELEB", "channel": "#celebrations"}
        self.page_size = 2  # users.list pages this small, so pagination is exercised
        handler = self.server.RequestHandlerClass
        fake = self

        def do_GET(self):
            split = urlsplit(self.path)
            body = {key: values[0] for key, values in parse_qs(split.query).items()}
            with fake._lock:
                fake.received.append(Received(split.path, body, dict(self.headers), time.monotonic()))
                reply = fake._script.popleft() if fake._script else None
            self._answer(reply or fake.success(split.path, body))

        handler.do_GET = do_GET

    def reset(self) -> None:
        super().reset()
        self.users = []

    def calls(self, method: str) -> list[Received]:
        return [item for item in self.received if item.path == f"/api/{method}"]

    def add_user(
        self,
        user_id: str,
        *,
        email: str = "",
        name: str = "",
        tz: str = "Europe/Berlin",
        deleted=False,
        team_id="T0ALPHA",
    ):
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": name.lower().replace(" ", "."),
            "deleted": deleted,
            "is_bot": False,
            "tz": tz,
            "profile": {"email": email, "real_name": name, "display_name": name.split(" ")[0]},
        }
        self.users.append(user)
        return user

    def success(self, path: str, body: dict) -> Reply:
        if not path.startswith("/api/"):
            return Reply(200, "ok")
        method = path.removeprefix("/api/")
        ok = {"ok": True}
        if method == "oauth.v2.access":
            if body.get("code") != "good-code":
                return Reply(200, {"ok": False, "error": "invalid_code"})
            return Reply(
                200,
                {
                    **ok,
                    "access_token": BOT_TOKEN,
                    "token_type": "bot",
                    "scope": "commands,chat:write",
                    "bot_user_id": "U0BOT",
                    "app_id": "A0APP",
                    "team": self.oauth_team,
                    "enterprise": None,
                    "authed_user": {"id": "U0ADMIN"},
                    "incoming_webhook": {**self.oauth_channel, "url": self.url + "/services/T/B/X"},
                },
            )
        if method == "users.list":
            start = int(body.get("cursor") or 0)
            members = self.users[start : start + self.page_size]
            following = start + self.page_size
            cursor = str(following) if following < len(self.users) else ""
            return Reply(200, {**ok, "members": members, "response_metadata": {"next_cursor": cursor}})
        if method == "users.lookupByEmail":
            for user in self.users:
                if user["profile"]["email"].lower() == (body.get("email") or "").lower():
                    return Reply(200, {**ok, "user": user})
            return Reply(200, {"ok": False, "error": "users_not_found"})
        if method == "users.info":
            for user in self.users:
                if user["id"] == body.get("user"):
                    return Reply(200, {**ok, "user": user})
            return Reply(200, {"ok": False, "error": "user_not_found"})
        if method == "conversations.open":
            return Reply(200, {**ok, "channel": {"id": "D" + (body.get("users") or "")[1:]}})
        if method in ("views.open", "views.publish"):
            return Reply(200, {**ok, "view": {"id": "V0VIEW", **(body.get("view") or {})}})
        return super().success(path, body)

    def parse(self, raw: str, content_type: str) -> dict:
        body = super().parse(raw, content_type)
        for key in ("view", "blocks"):
            if isinstance(body.get(key), str):
                body[key] = json.loads(body[key])
        return body


def basic_auth(headers: dict) -> tuple[str, str]:
    value = headers.get("Authorization", "")
    user, _, password = base64.b64decode(value.removeprefix("Basic ")).decode().partition(":")
    return user, password
