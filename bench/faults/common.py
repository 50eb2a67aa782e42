"""Constants, small helpers and the shapes of a fault run (timing, workload)."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path(os.environ.get("BB_FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
# The machine's own services: never used, stopped or bound by the harness.
SHARED_PORTS = frozenset({5432, 6379})
SECRET_KEY = "faults-harness-secret-key-not-for-production-0123456789abcdefghij"  # noqa: S105 - private scratch data
TEMPLATE_DB = "faults_template"
CACHE_DB, BROKER_DB = 0, 1  # as docker-compose.yml
# An answer written this long before a fault began may not be recorded yet: still "in flight".
IN_FLIGHT_WINDOW = 0.2
# A request sent just before the fault may be read by the fake Slack a moment later.
RECEIVE_MARGIN = 0.05
# What the environment of the services may inherit from ours (everything else is set explicitly).
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "VIRTUAL_ENV", "USER", "LOGNAME")
MARKED_TWICE = "twice"  # last_error of a row retried after an unknown outcome ("… may arrive twice")

FAULTS = (
    "none",
    "db_restart_idle",
    "db_restart_mid",
    "kill_children",
    "kill_main",
    "sigterm",
    "broker_restart",
    "hung_webhook",
)


# --- small helpers --------------------------------------------------------------------------


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ephemeral_ports() -> range:
    """The kernel's range for the local ports of outgoing connections (Linux; the default elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        low, high = "32768", "60999"
    return range(int(low), int(high) + 1)


def _own_port(port: int, what: str) -> int:
    if port in SHARED_PORTS:
        raise ValueError(f"port {port} belongs to the machine's shared {what}: pick another")
    if port in ephemeral_ports():
        # A server restarted on such a port can find it taken by an outgoing connection's local
        # end (hundreds are open during a fault run) and fail to start.
        raise ValueError(f"port {port} for the private {what} is in the range of outgoing connections' ports")
    if not _port_free(port):
        raise RuntimeError(f"port {port} for the private {what} is taken (another harness still running?)")
    return port


def _http_json(url: str, *, data: dict | None = None, method: str = "GET", timeout: float = 30) -> dict:
    body = json.dumps(data).encode() if data is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - loopback, fixed URL
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        raw = response.read()
    try:
        return json.loads(raw)
    except ValueError:
        return {"text": raw.decode(errors="replace")}


def _wait(condition, *, timeout: float, interval: float = 0.05, what: str = "condition") -> float:
    """Polls ``condition`` until true; returns the time it became true; raises after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.time()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout:g}s")
        time.sleep(interval)


def _pctl(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * pct / 100))]


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Beat intervals written into the private database, and the engine's settings (environment).

    ``short`` (the tests): tick and sweep every 2 s, claim lease and pending grace 3 s — a
    configuration of the schedule and of settings, not an intervention during a fault.
    ``production``: the intervals the migrations create and the settings' defaults.
    """

    name: str
    tick_seconds: int | None = None
    sweep_seconds: int | None = None
    env: dict = field(default_factory=dict)
    recovery_bound_seconds: float = 60.0


SHORT = Timing(
    "short",
    tick_seconds=2,
    sweep_seconds=2,
    env={"NOTIFICATIONS_CLAIM_LEASE_SECONDS": "3", "NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS": "3"},
    recovery_bound_seconds=30.0,
)
PRODUCTION = Timing("production", recovery_bound_seconds=60.0)
TIMINGS = {"short": SHORT, "production": PRODUCTION}


@dataclass
class Workload:
    """What is sent and how the fault lands. Sizes: tests ~400 + 60, bench 1,000 + 200."""

    slack: int = 600
    emails: int = 60
    # Slack answers after this long (real webhooks take ~0.1-0.5 s): a batch of 200 with 50 calls
    # in flight takes ~2 s, so the calls in flight at the fault are a small part of what was sent.
    slack_delay: float = 0.5
    smtp_delay: float = 0.1
    trigger: float = 0.6  # the fault lands once this share of the Slack messages was received
    db_down_seconds: float = 10.0
    broker_down_seconds: float = 5.0
    hang_seconds: float = 10.0  # a /hang/ webhook answers this late (past SLACK_TIMEOUT_SECONDS)
    slack_timeout: int = 2
    email_timeout: int = 2
    digest_lead_seconds: float = 5.0  # idle restart: digests fall due this long after the database is back
    wait_seconds: float = 45.0  # at most, after the fault ends, for every row to settle
    settle_seconds: float = 1.5  # then this long for late duplicates
    sigterm_grace_seconds: float = 60.0  # compose's stop_grace_period for the worker
    concurrency: int = 4

    @property
    def total(self) -> int:
        return self.slack + self.emails


@dataclass
class Fault:
    """When the fault began (``started``), when its action was done (``done``: the process gone,
    the server stopped) and when it ended (``ended``: the service back, the new worker ready)."""

    kind: str
    started: float | None = None
    done: float | None = None
    ended: float | None = None
    rows_sending: int | None = None
    # Taken after a kill, the rows the dead worker held: the only ones the sweeper may send again.
    sending_after_kill: set[str] | None = None
    notes: dict = field(default_factory=dict)
