"""A fast local stand-in for Slack's incoming webhooks: ``python -m bench.fake_slack --port N``.

A raw HTTP/1.1 server on asyncio (one process, no framework), keep-alive aware: slack-sdk's
``WebhookClient`` (urllib, ``Connection: close``) and its async client (aiohttp, keep-alive)
both work. Every ``POST /services/…`` answers ``200 ok`` and counts its ``text``, so the
benchmark can check that each notification arrived exactly once:

- ``GET /__stats``: ``{"total", "first_at", "last_at", "in_flight", "counts": {text: times},
  "times": {text: [first received, last received]}}`` (``time.time()`` seconds);
- ``GET /__count``: ``{"total", "in_flight"}`` only (cheap enough to poll);
- ``GET /__log``: every request as ``[text, path, status, received_at, answered_at,
  abandoned_at]`` — ``answered_at`` when the answer was written, ``abandoned_at`` when the
  client closed the connection before it (a timeout, a killed worker);
- ``POST /__reset``: forgets everything received (the configuration stays);
- ``POST /__config`` with a JSON object: ``delay`` (seconds before each answer), ``hang_seconds``
  and ``hang_times`` (see below). ``--delay``, ``--hang-seconds`` and ``--hang-times`` set them
  at start.

Faults (``bench.faults``): with a ``delay`` every answer waits that long, so provider calls are
in flight when a worker is killed; a webhook whose path contains ``/hang/`` answers only after
``hang_seconds`` (longer than the client's timeout) for its first ``hang_times`` requests, then
normally. ``in_flight`` counts requests received and not yet answered or abandoned. A request
is counted (and logged) when it has been read, before any wait.

Loopback only; without a delay it never sleeps, so it is not the bottleneck (its CPU time is
reported).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from collections import Counter, deque

OK = b"ok"
HANG_MARK = "/hang/"


class State:
    def __init__(self, *, delay: float = 0.0, hang_seconds: float = 30.0, hang_times: int = 1):
        self.delay = delay
        self.hang_seconds = hang_seconds
        self.hang_times = hang_times
        self.reset()

    def reset(self) -> None:
        self.counts: Counter = Counter()
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.hung: Counter = Counter()
        self.log: list[list] = []
        self.total = 0
        self.in_flight = 0
        self.first_at: float | None = None
        self.last_at: float | None = None

    def configure(self, options: dict) -> None:
        if "delay" in options:
            self.delay = max(0.0, float(options["delay"]))
        if "hang_seconds" in options:
            self.hang_seconds = max(0.0, float(options["hang_seconds"]))
        if "hang_times" in options:
            self.hang_times = max(0, int(options["hang_times"]))

    def config(self) -> dict:
        return {"delay": self.delay, "hang_seconds": self.hang_seconds, "hang_times": self.hang_times}

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, bytes, str, float, list | None]:
        """The answer, how long to wait before sending it, and the log entry to complete (or None)."""
        if method == "POST" and path.startswith("/services/"):
            try:
                text = json.loads(body).get("text", "")
            except ValueError:
                return 400, b"invalid_payload", "text/plain", 0.0, None
            now = time.time()
            self.counts[text] += 1
            self.total += 1
            self.first_at = self.first_at or now
            self.last_at = now
            self.first.setdefault(text, now)
            self.last[text] = now
            wait = self.delay
            if HANG_MARK in path and self.hung[path] < self.hang_times:
                self.hung[path] += 1
                wait = max(wait, self.hang_seconds)
            entry = [text, path, 200, now, None, None]
            self.log.append(entry)
            self.in_flight += 1
            return 200, OK, "text/plain", wait, entry
        if method == "GET" and path == "/__count":
            return self._json({"total": self.total, "in_flight": self.in_flight})
        if method == "GET" and path == "/__stats":
            times = {text: [first, self.last[text]] for text, first in self.first.items()}
            data = {
                "total": self.total,
                "first_at": self.first_at,
                "last_at": self.last_at,
                "in_flight": self.in_flight,
                "counts": self.counts,
                "times": times,
            }
            return self._json(data)
        if method == "GET" and path == "/__log":
            return self._json({"requests": self.log, "in_flight": self.in_flight})
        if method == "POST" and path == "/__reset":
            self.reset()
            return 200, OK, "text/plain", 0.0, None
        if method == "POST" and path == "/__config":
            try:
                self.configure(json.loads(body or b"{}"))
            except (ValueError, TypeError):
                return 400, b"invalid_config", "text/plain", 0.0, None
            return self._json(self.config())
        return 404, b"no_service", "text/plain", 0.0, None

    @staticmethod
    def _json(data: dict) -> tuple[int, bytes, str, float, None]:
        return 200, json.dumps(data).encode(), "application/json", 0.0, None

    def answered(self, entry: list | None, *, written: bool) -> None:
        if entry is None:
            return
        entry[4 if written else 5] = time.time()
        self.in_flight -= 1


class HttpProtocol(asyncio.Protocol):
    def __init__(self, state: State):
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        # Answers that wait (a delay, a hang), in request order: (due, response, close, entry).
        self.waiting: deque = deque()
        self.writer: asyncio.Task | None = None

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
            status, payload, content_type, wait, entry = self.state.handle(method, path, body)
            head = (
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: {content_type}; charset=utf-8\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n"
            )
            response = head.encode("latin-1") + payload
            if wait <= 0 and not self.waiting:
                self._write(response, close, entry)
            else:
                # Answers on one connection leave in request order, each at its own time.
                self.waiting.append((time.monotonic() + wait, response, close, entry))
                if self.writer is None or self.writer.done():
                    self.writer = asyncio.get_running_loop().create_task(self._write_waiting())

    def _write(self, response: bytes, close: bool, entry: list | None) -> None:
        if self.transport is None:
            self.state.answered(entry, written=False)
            return
        self.transport.write(response)
        self.state.answered(entry, written=True)
        if close:
            self.transport.close()
            self.transport = None

    async def _write_waiting(self) -> None:
        while self.waiting:
            due, response, close, entry = self.waiting[0]
            pause = due - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            if self.waiting and self.waiting[0][3] is entry:
                self.waiting.popleft()
                self._write(response, close, entry)

    def connection_lost(self, exc) -> None:
        self.transport = None
        # Nobody waits for these answers any more: the client timed out or died.
        while self.waiting:
            _, _, _, entry = self.waiting.popleft()
            self.state.answered(entry, written=False)
        if self.writer is not None and not self.writer.done():
            self.writer.cancel()


async def serve(port: int, state: State | None = None) -> None:
    loop = asyncio.get_running_loop()
    state = state or State()
    server = await loop.create_server(lambda: HttpProtocol(state), "127.0.0.1", port, backlog=2048, reuse_address=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each webhook answer")
    parser.add_argument("--hang-seconds", type=float, default=30.0, help="how long a /hang/ webhook waits")
    parser.add_argument("--hang-times", type=int, default=1, help="requests each /hang/ webhook hangs before answering")
    args = parser.parse_args()
    state = State(delay=args.delay, hang_seconds=args.hang_seconds, hang_times=args.hang_times)
    asyncio.run(serve(args.port, state))


if __name__ == "__main__":
    main()
