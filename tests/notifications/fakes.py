"""Local stand-ins for Slack, Twilio and an SMTP server: the real client libraries talk to them.

Each HTTP fake is a ``ThreadingHTTPServer`` on 127.0.0.1 and a random port. Answers are
scripted: ``fake.script(Reply(...), ...)`` queues answers for the next requests; when the
script is empty the fake answers like the real service on success. Every request is
recorded (on arrival, before any scripted delay) in ``fake.received``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope


@dataclass
class Reply:
    status: int = 200
    body: str | dict = "ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    path: str
    body: dict
    headers: dict
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many concurrent clients (batches, workers) connect at once


class _FakeServer:
    def __init__(self, default_delay: float = 0.0):
        self.received: list[Received] = []
        self.in_flight = 0  # requests received and not yet answered
        self.max_in_flight = 0
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.default_delay = default_delay
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                body = fake.parse(raw, self.headers.get("Content-Type", ""))
                with fake._lock:
                    fake.received.append(Received(self.path, body, dict(self.headers), time.monotonic()))
                    reply = fake._script.popleft() if fake._script else None
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(reply or fake.success(self.path, body))
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _answer(self, reply: Reply) -> None:
                delay = reply.delay or fake.default_delay
                if delay:
                    time.sleep(delay)
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    content_type = "text/plain" if isinstance(reply.body, str) else "application/json"
                    self.send_header("Content-Type", f"{content_type}; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, str(value))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.received.clear()
            self.max_in_flight = 0

    def parse(self, raw: str, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(raw or "{}")
        return {key: values[0] for key, values in parse_qs(raw).items()}

    def success(self, path: str, body: dict) -> Reply:
        raise NotImplementedError


class FakeSlack(_FakeServer):
    """Incoming webhooks at any path (answer ``ok``) and ``POST /api/chat.postMessage``."""

    webhook_path = "/services/T000/B000/XXXXSECRETabcd"

    @property
    def webhook_url(self) -> str:
        return self.url + self.webhook_path

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def success(self, path: str, body: dict) -> Reply:
        if path.startswith("/api/"):
            return Reply(200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"})
        return Reply(200, "ok")

    def texts(self) -> list[str]:
        return [item.body.get("text", "") for item in self.received]


class FakeTwilio(_FakeServer):
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` like Twilio's Messages resource."""

    def success(self, path: str, body: dict) -> Reply:
        account = path.split("/")[3] if path.count("/") >= 4 else ""
        sid = "SM" + uuid.uuid4().hex
        return Reply(
            201,
            {
                "sid": sid,
                "account_sid": account,
                "to": body.get("To"),
                "from": body.get("From"),
                "messaging_service_sid": body.get("MessagingServiceSid"),
                "body": body.get("Body", ""),
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "error_code": None,
                "error_message": None,
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
        )

    @staticmethod
    def error(status: int, code: int, message: str) -> Reply:
        return Reply(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )


class SmtpRecorder:
    """aiosmtpd handler: records accepted messages; refuses addresses listed in ``refuse``."""

    def __init__(self):
        self.messages: list[Envelope] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp() -> tuple[Controller, SmtpRecorder]:
    recorder = SmtpRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, recorder
