"""A fast local stand-in for Slack's incoming webhooks: ``python -m bench.fake_slack --port N``.

A raw HTTP/1.1 server on asyncio (one process, no framework), keep-alive aware: slack-sdk's
``WebhookClient`` (urllib, ``Connection: close``) and its async client (aiohttp, keep-alive)
both work. Every ``POST /services/…`` answers ``200 ok`` and counts its ``text``, so the
benchmark can check that each notification arrived exactly once:

- ``GET /__stats``: ``{"total", "first_at", "last_at", "counts": {text: times}}``;
- ``POST /__reset``: forgets everything received.

Loopback only; it never sleeps, so it is not the bottleneck (its CPU time is reported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from collections import Counter

OK = b"ok"


class State:
    def __init__(self):
        self.counts: Counter = Counter()
        self.total = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str]:
        if method == "POST" and path.startswith("/services/"):
            try:
                text = json.loads(body).get("text", "")
            except ValueError:
                return 400, b"invalid_payload", "text/plain"
            now = time.time()
            self.counts[text] += 1
            self.total += 1
            self.first_at = self.first_at or now
            self.last_at = now
            return 200, OK, "text/plain"
        if method == "GET" and path == "/__stats":
            data = {"total": self.total, "first_at": self.first_at, "last_at": self.last_at, "counts": self.counts}
            return 200, json.dumps(data).encode(), "application/json"
        if method == "POST" and path == "/__reset":
            self.__init__()
            return 200, OK, "text/plain"
        return 404, b"no_service", "text/plain"


class HttpProtocol(asyncio.Protocol):
    def __init__(self, state: State):
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            try:
                method, path, version = lines[0].split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            length = 0
            close = version == "HTTP/1.0"
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip() or 0)
                elif name == "connection":
                    value = value.strip().lower()
                    close = value == "close" or (version == "HTTP/1.0" and value != "keep-alive")
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            status, payload, content_type = self.state.handle(method, path, body)
            head = (
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: {content_type}; charset=utf-8\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n"
            )
            self.transport.write(head.encode("latin-1") + payload)
            if close:
                self.transport.close()
                self.transport = None

    def connection_lost(self, exc) -> None:
        self.transport = None


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    state = State()
    server = await loop.create_server(lambda: HttpProtocol(state), "127.0.0.1", port, backlog=2048, reuse_address=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
