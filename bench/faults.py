"""Faults under load: a private PostgreSQL and Redis, the real worker and beat, counted at fake providers.

Used by ``tests/faults`` (small sizes, short intervals) and by ``python -m bench --faults`` (the
issue's size). Everything is real and private; nothing shared is touched:

- :class:`PrivatePostgres`: a cluster made by ``initdb`` in a temporary directory, run as the
  ``postgres`` OS user on 127.0.0.1:<port> (tests 55432, bench 55433), its socket in the same
  directory. The schema is migrated once into a template database (``manage.py migrate``, as
  compose's ``migrate`` step does), with the load's workspaces and Slack channels; each
  scenario gets a copy (``CREATE DATABASE … TEMPLATE``). It can be stopped (``fast`` or
  ``immediate``) and started again: a database restart.
- :class:`PrivateRedis`: ``redis-server --save "" --appendonly no`` on its own port (tests
  56379, bench 56380): the cache on db 0 and the broker on db 1, as in docker-compose.yml.
  Stopping it (``SHUTDOWN NOSAVE``) and starting it again loses every queued message.
- The processes of production: ``celery -A birthdaybuddy worker --pool=prefork --concurrency=4
  --without-gossip --without-mingle`` and ``celery -A birthdaybuddy beat
  --scheduler=django_celery_beat.schedulers:DatabaseScheduler``, each in its own process group,
  configured only through the environment (:meth:`Harness.env`).
- Providers: ``bench.fake_slack`` in its own process (a delay per answer, ``/hang/`` webhooks,
  every request logged with when it was answered or abandoned) and :class:`CountingSmtp`
  (aiosmtpd), which logs each message by recipient.

The load is written as production writes it (``notifications_write`` + ``notifications_enqueue``
in one transaction, so the batching is the real one), by ``python -m bench.faults load`` run
against the private servers. The idle database-restart fault instead seeds real workspaces with
a birthday and a digest reminder falling due after the restart (``python -m bench.faults
digests``): the beat tick itself must create and deliver them.

:func:`run_fault` runs one fault and returns its figures; :func:`problems` says which of the
issue's promises they break. How a message is counted:

- its key at the provider is the Slack text (unique per row) or the email's recipient;
- **delivered**: received at least once; **lost**: never received and no longer ``pending`` or
  ``sending`` (rows that should exist and do not, for the digests, count as lost too);
  **stuck**: ``pending``/``sending`` when the scenario ends;
- **duplicates**: posts beyond the first; each must have been *in flight at the fault* — its
  first post received by the provider before the fault was over and not answered more than
  ``IN_FLIGHT_WINDOW`` seconds before it began (an answer that recent may not be recorded yet) —
  and be marked on its row (``retried_after_unknown``, or ``last_error`` saying it may arrive
  twice). ``in_flight_at_fault`` gives that provider-side count and the rows in ``sending`` at
  the fault; only the first bounds duplicates, since a batch claimed whole has rows in
  ``sending`` that were never posted. After a kill the rows in ``sending`` are read once the
  worker is dead: a duplicate must also be one of those (the only claims nobody will record);
- **recovery_seconds**: from the end of the fault (the service back, the new worker ready) to
  the first post after it; **drain_seconds**: to the first post of the last message delivered.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.environment import log
from bench.procs import Child, group_pids, wait_for_port

BASE_DIR = Path(__file__).resolve().parent.parent
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


def _own_port(port: int, what: str) -> int:
    if port in SHARED_PORTS:
        raise ValueError(f"port {port} belongs to the machine's shared {what}: pick another")
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


# --- PostgreSQL -----------------------------------------------------------------------------


class PrivatePostgres:
    """A PostgreSQL 15 cluster of our own in ``root``, trust auth, 127.0.0.1:``port`` only."""

    def __init__(self, port: int, root: Path):
        self.port = _own_port(port, "PostgreSQL")
        self.dir = root / "pg"
        self.data = self.dir / "data"
        self.sockets = self.dir / "sock"
        self.logfile = self.dir / "postgres.log"
        self.running = False

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / argv[0]), *argv[1:]]
        if os.geteuid() == 0:  # the server refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")
        return result

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockets}'",
            "max_connections": "200",
            # A private scratch cluster: no fsync (a stopped or crashed server still finds every
            # commit in the OS cache). synchronous_commit stays on: an answered commit is in the WAL.
            "fsync": "off",
            "full_page_writes": "off",
            "log_min_messages": "warning",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# bench.faults\n" + "".join(f"{name} = {value}\n" for name, value in settings.items()))

    def start(self) -> float:
        """Starts the server and waits until it accepts connections; returns that time."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start")
        self.running = True
        return time.time()

    def stop(self, mode: str = "fast") -> float:
        """``fast`` (clients disconnected, clean shutdown) or ``immediate`` (a crash); returns when done."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False
        return time.time()

    def restart(self, *, down_seconds: float, mode: str = "fast") -> tuple[float, float, float]:
        """Stops the server, waits ``down_seconds``, starts it; returns (began, stopped, back) times."""
        began = time.time()
        stopped = self.stop(mode)
        time.sleep(down_seconds)
        return began, stopped, self.start()

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)

    def create_database(self, name: str, *, template: str | None = None) -> None:
        from psycopg import sql

        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if template:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def delete(self) -> None:
        if self.running or (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- Redis ----------------------------------------------------------------------------------


class PrivateRedis:
    """``redis-server`` on 127.0.0.1:``port`` without persistence: a restart forgets everything."""

    def __init__(self, port: int, root: Path):
        self.port = _own_port(port, "Redis")
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.child: Child | None = None
        self.starts = 0

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> float:
        self.starts += 1
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.dir), "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"]
        self.child = Child(
            "redis", argv, env=_base_env(), log_path=self.dir / f"redis-{self.starts}.log", cwd=str(self.dir)
        )
        wait_for_port(self.port, timeout=15, child=self.child)
        import redis

        client = redis.Redis.from_url(self.url(0))
        _wait(lambda: _safe(client.ping), timeout=10, what="redis ping")
        client.close()
        return time.time()

    def restart(self, *, down_seconds: float, mode: str = "nosave") -> tuple[float, float, float]:
        """Stops the server (everything it held is gone), waits, starts it empty on the same port;
        returns (began, stopped, back) times."""
        began = time.time()
        stopped = self.stop(mode)
        time.sleep(down_seconds)
        return began, stopped, self.start()

    def stop(self, mode: str = "nosave") -> float:
        """``nosave``: ``SHUTDOWN NOSAVE`` (a restart that loses every message); ``kill``: SIGKILL."""
        if self.child is None:
            return time.time()
        if mode == "kill":
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.child.pgid, signal.SIGKILL)
        else:
            import redis

            client = redis.Redis.from_url(self.url(0), socket_timeout=5)
            with contextlib.suppress(redis.ConnectionError):
                client.shutdown(nosave=True)
        self.child.process.wait(timeout=15)
        self.child.stop(timeout=2)  # closes its log, forgets it
        self.child = None
        return time.time()


def _safe(call) -> bool:
    try:
        return bool(call())
    except Exception:
        return False


def _base_env() -> dict[str, str]:
    return {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}


# --- providers ------------------------------------------------------------------------------


class FakeSlack:
    """``bench.fake_slack`` in its own process (own process group)."""

    def __init__(self, root: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.child = Child(
            "fake-slack",
            [sys.executable, "-m", "bench.fake_slack", "--port", str(self.port)],
            env={**_base_env(), "PYTHONPATH": str(BASE_DIR)},
            log_path=root / "fake_slack.log",
            cwd=str(BASE_DIR),
        )
        wait_for_port(self.port, timeout=15, child=self.child)

    @property
    def services_prefix(self) -> str:
        return f"{self.url}/services/"

    def configure(self, **options) -> dict:
        return _http_json(self.url + "/__config", data=options, method="POST")

    def reset(self) -> None:
        _http_json(self.url + "/__reset", method="POST")

    def count(self) -> dict:
        return _http_json(self.url + "/__count", timeout=5)

    def requests(self) -> list[list]:
        """``[text, path, status, received_at, answered_at, abandoned_at]`` for every post."""
        return _http_json(self.url + "/__log")["requests"]

    def stop(self) -> None:
        self.child.stop(timeout=5)


class CountingSmtp:
    """An SMTP server (aiosmtpd, in a thread of this process) that logs each message by recipient,
    answering ``250`` after ``delay`` seconds."""

    def __init__(self, port: int | None = None, delay: float = 0.0):
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.delay = delay
        self.lock = threading.Lock()
        self.log: list[list] = []  # [recipient, received_at, answered_at]
        smtp = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                import asyncio

                entry = [(envelope.rcpt_tos or [""])[0].lower(), time.time(), None]
                with smtp.lock:
                    smtp.log.append(entry)
                if smtp.delay:
                    await asyncio.sleep(smtp.delay)
                entry[2] = time.time()
                return "250 Message accepted for delivery"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def reset(self, delay: float | None = None) -> None:
        with self.lock:
            self.log = []
        if delay is not None:
            self.delay = delay

    def messages(self) -> list[list]:
        with self.lock:
            return [list(entry) for entry in self.log]

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.controller.stop()


# --- Celery processes -----------------------------------------------------------------------


class CeleryProcess:
    """``celery -A birthdaybuddy worker|beat …`` in its own process group, output in ``log_path``."""

    def __init__(self, kind: str, argv: list[str], *, env: dict, log_path: Path):
        self.kind = kind
        self.log_path = log_path
        self.child = Child(kind, [sys.executable, "-m", "celery", *argv], env=env, log_path=log_path, cwd=BASE_DIR)
        self.pid = self.child.process.pid
        self.started_at = time.time()

    @property
    def alive(self) -> bool:
        return self.child.alive

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_for_log(self, marker: str, *, timeout: float) -> float:
        def seen() -> bool:
            if not self.alive:
                raise RuntimeError(f"{self.kind} exited:\n{self.log_text()[-3000:]}")
            return marker in self.log_text()

        return _wait(seen, timeout=timeout, interval=0.1, what=f"{self.kind} log {marker!r}")

    def pool_pids(self) -> list[int]:
        return [pid for pid in group_pids(self.pid) if pid != self.pid and _parent(pid) == self.pid]

    def kill_pool(self) -> list[int]:
        """SIGKILL to every prefork child (not the main process, which starts new ones)."""
        pids = self.pool_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _wait(lambda: not any(_alive(pid) for pid in pids), timeout=10, interval=0.005, what="pool children gone")
        return pids

    def kill(self) -> None:
        """SIGKILL to the whole process group (main process and pool): a lost machine, an OOM kill."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.child.process.wait(timeout=10)
        _wait(lambda: not group_pids(self.pid), timeout=10, interval=0.005, what=f"{self.kind} group gone")

    def terminate(self, *, grace: float = 60.0) -> dict:
        """SIGTERM to the main process only (as ``docker stop`` does): Celery's warm shutdown.
        SIGKILL to the group if it has not exited within ``grace`` (compose's stop_grace_period)."""
        started = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        killed = False
        try:
            self.child.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            killed = True
            self.kill()
        _wait(lambda: not group_pids(self.pid), timeout=15, interval=0.01, what=f"{self.kind} group gone")
        return {"exit_seconds": round(time.monotonic() - started, 2), "killed_after_grace": killed}

    def stop(self) -> None:
        self.child.stop(timeout=10)


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    return int(text[text.rfind(")") + 2 :].split()[1])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False
    return text[text.rfind(")") + 2 :].split()[0] != "Z"


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


# --- the harness ----------------------------------------------------------------------------


class Harness:
    """The private services and fakes, shared by the scenarios of one run; :meth:`close` removes all."""

    def __init__(
        self,
        *,
        pg_port: int,
        redis_port: int,
        timing: Timing,
        template_workspaces: int = 1_000,
        root: Path | None = None,
        keep: bool = False,
    ):
        self.timing = timing
        self.keep = keep
        self.root = Path(root or tempfile.mkdtemp(prefix="bb-faults-"))
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)  # noqa: S103 - the postgres user must reach its directory inside
        self.template_workspaces = template_workspaces
        self.processes: list[CeleryProcess] = []
        self.scenarios = 0
        self.pg: PrivatePostgres | None = None
        self.redis: PrivateRedis | None = None
        self.slack: FakeSlack | None = None
        self.smtp: CountingSmtp | None = None
        self.closed = False
        atexit.register(self.close)  # a run that dies early leaves no server behind
        try:
            self.pg = PrivatePostgres(pg_port, self.root)
            self.redis = PrivateRedis(redis_port, self.root)
            started = time.monotonic()
            self.pg.init()
            self.pg.start()
            self.redis.start()
            self.slack = FakeSlack(self.root)
            self.smtp = CountingSmtp()
            log(f"faults: PostgreSQL :{pg_port}, Redis :{redis_port}, fake Slack :{self.slack.port} in {self.root}")
            self.pg.create_database(TEMPLATE_DB)
            self.manage("migrate", "--noinput", database=TEMPLATE_DB, log_name="migrate.log")
            self.command(
                "setup-template",
                "--workspaces",
                str(template_workspaces),
                "--slack-prefix",
                self.slack.services_prefix,
                *(["--tick-seconds", str(timing.tick_seconds)] if timing.tick_seconds else []),
                *(["--sweep-seconds", str(timing.sweep_seconds)] if timing.sweep_seconds else []),
                database=TEMPLATE_DB,
            )
            log(f"faults: template database migrated and seeded in {time.monotonic() - started:.1f}s")
        except BaseException:
            self.close()
            raise

    # environment and subprocesses

    def env(self, database: str, workload: Workload | None = None) -> dict[str, str]:
        """The services' whole environment: production settings pointed at the private servers."""
        workload = workload or Workload()
        return {
            **_base_env(),
            "PYTHONPATH": str(BASE_DIR),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "birthdaybuddy.settings",
            "DATABASE_URL": self.pg.url(database),
            "REDIS_URL": self.redis.url(CACHE_DB),
            "CELERY_BROKER_URL": self.redis.url(BROKER_DB),
            "CACHE_KEY_PREFIX": "bbfaults",
            "SECRET_KEY": SECRET_KEY,
            "PRODUCTION": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "INFO",
            "SLACK_WEBHOOK_URL_PREFIXES": self.slack.services_prefix,
            "SLACK_TIMEOUT_SECONDS": str(workload.slack_timeout),
            "EMAIL_URL": self.smtp.url,
            "EMAIL_TIMEOUT": str(workload.email_timeout),
            "NOTIFICATIONS_RATE_LIMIT_ENABLED": "0",
            "NOTIFICATIONS_CONSOLE_FALLBACK": "0",
            **self.timing.env,
        }

    def manage(self, *args: str, database: str, log_name: str) -> None:
        path = self.root / log_name
        with open(path, "ab") as output:
            result = subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=BASE_DIR,
                env=self.env(database),
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=600,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{path.read_text(errors='replace')[-3000:]}")

    def command(self, *args: str, database: str, workload: Workload | None = None) -> dict:
        """``python -m bench.faults <args>`` against ``database`` (Django set up there); its JSON answer."""
        result = subprocess.run(
            [sys.executable, "-m", "bench.faults", *args],
            cwd=BASE_DIR,
            env=self.env(database, workload),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"bench.faults {args[0]} failed:\n{result.stderr[-4000:]}")
        lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def new_database(self, name: str) -> str:
        self.pg.create_database(name, template=TEMPLATE_DB)
        return name

    def start_worker(self, database: str, workload: Workload, label: str) -> CeleryProcess:
        argv = ["-A", "birthdaybuddy", "worker", "--pool=prefork", f"--concurrency={workload.concurrency}"]
        argv += ["--without-gossip", "--without-mingle", "--loglevel=INFO", "-n", f"{label}@%h"]
        worker = CeleryProcess("worker", argv, env=self.env(database, workload), log_path=self.root / f"{label}.log")
        self.processes.append(worker)
        return worker

    def start_beat(self, database: str, workload: Workload, label: str) -> CeleryProcess:
        argv = ["-A", "birthdaybuddy", "beat", "--loglevel=INFO"]
        argv += ["--scheduler=django_celery_beat.schedulers:DatabaseScheduler"]
        beat = CeleryProcess("beat", argv, env=self.env(database, workload), log_path=self.root / f"{label}.log")
        self.processes.append(beat)
        return beat

    def stop_processes(self) -> None:
        for process in self.processes:
            with contextlib.suppress(Exception):
                process.stop()
        self.processes.clear()

    def flush_redis(self) -> None:
        import redis

        for db in (CACHE_DB, BROKER_DB):
            client = redis.Redis.from_url(self.redis.url(db))
            client.flushdb()
            client.close()

    def close(self) -> None:
        """Stops everything and removes the cluster (idempotent; also run at exit)."""
        if self.closed:
            return
        self.closed = True
        self.stop_processes()
        for stop in (
            lambda: self.slack and self.slack.stop(),
            lambda: self.smtp and self.smtp.stop(),
            lambda: self.redis and self.redis.stop("kill"),
            lambda: self.pg and self.pg.delete(),
        ):
            with contextlib.suppress(Exception):
                stop()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- one fault ------------------------------------------------------------------------------


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


def run_fault(harness: Harness, kind: str, workload: Workload, *, label: str | None = None) -> dict:
    """Runs the workload through a fresh database, a new worker and beat, with ``kind`` of fault;
    returns the figures (see :func:`report`). Processes are stopped whatever happens."""
    if kind not in FAULTS:
        raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULTS)}")
    harness.scenarios += 1
    label = label or f"s{harness.scenarios:02d}-{kind}"
    database = harness.new_database(label.replace("-", "_"))
    harness.flush_redis()
    harness.slack.reset()
    harness.slack.configure(delay=workload.slack_delay, hang_seconds=workload.hang_seconds, hang_times=1)
    harness.smtp.reset(delay=workload.smtp_delay)
    fault = Fault(kind)
    loaded: dict = {}
    began = time.time()
    try:
        worker = harness.start_worker(database, workload, f"{label}-worker1")
        beat = harness.start_beat(database, workload, f"{label}-beat")
        first_worker = worker
        worker.wait_for_log(" ready.", timeout=90)
        beat.wait_for_log("beat: Starting", timeout=90)
        if harness.timing.tick_seconds or kind == "db_restart_idle":
            # Beat has sent its first entries (with the migrated intervals, up to a minute away).
            beat.wait_for_log("Sending due task", timeout=90)
        if kind == "db_restart_idle":
            loaded = _db_restart_idle(harness, database, workload, fault, worker)
        else:
            loaded = harness.command(
                "load",
                "--slack",
                str(workload.slack),
                "--emails",
                str(workload.emails),
                "--tag",
                label,
                *(["--hang"] if kind == "hung_webhook" else []),
                database=database,
                workload=workload,
            )
            fault.started = fault.done = fault.ended = loaded["queued_at"]
            if kind not in ("none", "hung_webhook"):
                _trigger(harness, workload)
            worker = _inflict(harness, database, workload, fault, worker, label)
        deadline = max(fault.ended or time.time(), time.time()) + workload.wait_seconds
        expected = loaded.get("expected", workload.total)
        settled = _wait_settled(harness, database, expected, deadline)
        time.sleep(workload.settle_seconds)
        processes = {
            "worker_alive": worker.alive,
            "worker_replaced": worker is not first_worker,
            "beat_alive": beat.alive,
            "worker_log_errors": _error_lines(worker.log_text()),
            "beat_log_errors": _error_lines(beat.log_text()),
        }
        result = report(harness, database, fault, loaded, workload, settled=settled, processes=processes)
        result["scenario_seconds"] = round(time.time() - began, 1)
        result["logs"] = str(harness.root)
        return result
    finally:
        harness.stop_processes()


def _trigger(harness: Harness, workload: Workload) -> None:
    """Waits until the share ``workload.trigger`` of the Slack messages reached the fake."""
    target = max(1, int(workload.slack * workload.trigger))
    _wait(lambda: harness.slack.count()["total"] >= target, timeout=120, interval=0.005, what="fault trigger")


def _sending(harness: Harness, database: str) -> set[str]:
    """The rows in ``sending`` now (the claims of a worker just killed, if taken after the kill)."""
    with harness.pg.connect(database) as conn:
        rows = conn.execute("SELECT id::text FROM notifications_notification WHERE status = 'sending'").fetchall()
    return {row[0] for row in rows}


def _inflict(
    harness: Harness, database: str, workload: Workload, fault: Fault, worker: CeleryProcess, label: str
) -> CeleryProcess:
    """Does the fault; returns the worker that runs afterwards (a new one after a kill or a stop)."""
    kind = fault.kind
    if kind in ("none", "hung_webhook"):
        return worker
    if kind == "db_restart_mid":
        fault.rows_sending = len(_sending(harness, database))
        fault.started, fault.done, fault.ended = harness.pg.restart(down_seconds=workload.db_down_seconds)
        return worker
    if kind == "broker_restart":
        fault.rows_sending = len(_sending(harness, database))
        fault.started, fault.done, fault.ended = harness.redis.restart(down_seconds=workload.broker_down_seconds)
        return worker
    if kind == "kill_children":
        fault.started = time.time()
        fault.notes["killed_pids"] = worker.kill_pool()
        fault.done = fault.ended = time.time()
        fault.sending_after_kill = _sending(harness, database)
        fault.rows_sending = len(fault.sending_after_kill)
        return worker
    if kind == "kill_main":
        fault.started = time.time()
        worker.kill()
        fault.done = time.time()
        fault.sending_after_kill = _sending(harness, database)
        fault.rows_sending = len(fault.sending_after_kill)
    elif kind == "sigterm":
        fault.rows_sending = len(_sending(harness, database))
        fault.started = time.time()
        fault.notes.update(worker.terminate(grace=workload.sigterm_grace_seconds))
        fault.done = time.time()
    # As compose's restart policy (kill) or the deploy (stop) would: a new worker.
    replacement = harness.start_worker(database, workload, f"{label}-worker2")
    fault.ended = replacement.wait_for_log(" ready.", timeout=90)
    return replacement


def _db_restart_idle(harness: Harness, database: str, workload: Workload, fault: Fault, worker) -> dict:
    """Digests due ``digest_lead_seconds`` after the database is back; the database stops while
    the worker and beat are idle (ticks and sweeps running), for ``db_down_seconds``."""

    def ticks() -> int:
        with harness.pg.connect(database) as conn:
            return conn.execute("SELECT count(*) FROM scheduling_jobrun").fetchone()[0]

    # The worker has run a tick (and holds its database connection) before the fault.
    _wait(lambda: ticks() > 0, timeout=90, interval=0.2, what="a first tick on the worker")
    lead = workload.digest_lead_seconds
    seed_allowance = 10.0
    due = int(time.time() + seed_allowance + workload.db_down_seconds + 2 + lead) + 1
    loaded = harness.command(
        "digests",
        "--workspaces",
        str(workload.slack),
        "--emails",
        str(workload.emails),
        "--due",
        str(due),
        "--slack-prefix",
        harness.slack.services_prefix,
        database=database,
        workload=workload,
    )
    stop_at = due - lead - workload.db_down_seconds - 2
    if time.time() > stop_at - 1:
        raise RuntimeError(f"setup too slow: the digests would fall due before the restart (due {due})")
    while time.time() < stop_at:
        time.sleep(0.05)
    with harness.pg.connect(database) as conn:
        early = conn.execute("SELECT count(*) FROM notifications_notification").fetchone()[0]
    if early:
        raise RuntimeError(f"{early} notifications exist before the restart: the digests fell due too early")
    fault.notes.update({"ticks_before_fault": ticks(), "digests_due_at": due})
    fault.rows_sending = 0
    fault.started, fault.done, fault.ended = harness.pg.restart(down_seconds=workload.db_down_seconds)
    fault.notes["due_after_restart_seconds"] = round(due - fault.ended, 2)
    if fault.ended >= due:
        raise RuntimeError("the database came back after the digests fell due: the scenario proves nothing")
    return loaded


def _wait_settled(harness: Harness, database: str, expected: int, deadline: float) -> bool:
    """Until every expected row exists and none is pending or sending (True), or ``deadline`` (False)."""
    while True:
        try:
            with harness.pg.connect(database) as conn:
                total, open_rows = conn.execute(
                    "SELECT count(*), count(*) FILTER (WHERE status IN ('pending', 'sending'))"
                    " FROM notifications_notification"
                ).fetchone()
            if total >= expected and open_rows == 0:
                return True
        except Exception as exc:  # the database may be restarting
            log(f"faults: waiting for the rows to settle: {type(exc).__name__}")
        if time.time() > deadline:
            return False
        time.sleep(0.25)


def _error_lines(text: str) -> dict:
    lines = [line for line in text.splitlines() if " ERROR " in line or "CRITICAL" in line or "Traceback" in line]
    return {"count": len(lines), "last": lines[-1][:300] if lines else None}


# --- counting -------------------------------------------------------------------------------


def report(
    harness: Harness,
    database: str,
    fault: Fault,
    loaded: dict,
    workload: Workload,
    *,
    settled: bool,
    processes: dict,
) -> dict:
    """What reached the providers against what the database says, for one fault."""
    with harness.pg.connect(database) as conn:
        rows = conn.execute(
            "SELECT id::text, channel, recipient, body, status, attempts, retried_after_unknown, last_error,"
            " extract(epoch FROM sent_at)::float8 FROM notifications_notification"
        ).fetchall()
    posts: dict[tuple, list[tuple]] = {}
    for text, _path, _status, received, answered, abandoned in harness.slack.requests():
        posts.setdefault(("slack", text), []).append((received, answered, abandoned))
    for recipient, received, answered in harness.smtp.messages():
        posts.setdefault(("email", recipient), []).append((received, answered, None))
    for entries in posts.values():
        entries.sort()

    def key(row) -> tuple:
        return ("slack", row[3]) if row[1] == "slack" else (row[1], row[2].lower())

    by_key = {key(row): row for row in rows}
    expected = loaded.get("expected", workload.total)
    statuses = Counter(row[4] for row in rows)
    delivered = [k for k in by_key if k in posts]
    never = [row for row in rows if key(row) not in posts]
    lost_rows = [row for row in never if row[4] not in ("pending", "sending")]
    missing_rows = max(0, expected - len(rows))
    stuck = [row for row in rows if row[4] in ("pending", "sending")]
    duplicated = {k: len(posts[k]) for k in by_key if len(posts.get(k, ())) > 1}
    stray = [k for k in posts if k not in by_key]

    # In flight at the fault, at the provider: first post received before the fault was done,
    # and not answered (or abandoned) more than IN_FLIGHT_WINDOW before it began.
    in_flight: set = set()
    if fault.kind == "hung_webhook":
        hung = [k for k, entries in posts.items() if entries[0][2] is not None and entries[0][1] is None]
        in_flight = set(hung)
        if hung:
            first = min(posts[k][0][0] for k in hung)
            fault.started = fault.done = first
            fault.ended = first + workload.slack_timeout
    elif fault.started is not None and fault.kind not in ("none", "db_restart_idle"):
        for k, entries in posts.items():
            received, answered, abandoned = entries[0]
            finished = answered or abandoned or float("inf")
            if received <= fault.done + RECEIVE_MARGIN and finished >= fault.started - IN_FLIGHT_WINDOW:
                in_flight.add(k)

    def marked(row) -> bool:
        return bool(row[6]) or MARKED_TWICE in (row[7] or "")

    unmarked = [k for k in duplicated if not marked(by_key[k])]
    outside = [k for k in duplicated if k not in in_flight]
    held = fault.sending_after_kill
    not_held = [k for k in duplicated if by_key[k][0] not in held] if held is not None else []

    firsts = [entries[0][0] for k, entries in posts.items() if k in by_key]
    every_post = sorted(received for entries in posts.values() for received, _, _ in entries)
    end = fault.ended
    drain = recovery = None
    if end is not None and firsts:
        drain = max(firsts) - end
        after = [t for t in every_post if t >= end]
        recovery = (after[0] - end) if after else None
    # The idle restart's digests cannot go out before they fall due: the promise counts from then.
    due = fault.notes.get("digests_due_at")
    late = None
    if due is not None and firsts:
        late = {"first": min(firsts) - due, "last": max(firsts) - due}

    # When each sent row was recorded, against when the provider answered its first post.
    lags = []
    for k, row in by_key.items():
        entries = posts.get(k)
        if row[4] == "sent" and row[8] is not None and entries and entries[0][1] is not None and len(entries) == 1:
            lags.append(row[8] - entries[0][1])

    result = {
        "fault": fault.kind,
        "messages": expected,
        "rows": len(rows),
        "statuses": dict(statuses),
        "delivered": len(delivered),
        "lost": len(lost_rows) + missing_rows,
        "missing_rows": missing_rows,
        "stuck": len(stuck),
        "stuck_by_status": dict(Counter(row[4] for row in stuck)),
        "duplicates": sum(times - 1 for times in duplicated.values()),
        "duplicated_messages": len(duplicated),
        "duplicated_by_channel": dict(Counter(k[0] for k in duplicated)),
        "max_posts_per_message": max((len(entries) for entries in posts.values()), default=0),
        "in_flight_at_fault": {"provider_open": len(in_flight), "rows_sending": fault.rows_sending},
        "duplicates_outside_in_flight": len(outside),
        "duplicates_not_held_by_the_killed_worker": len(not_held) if held is not None else None,
        "duplicates_unmarked": len(unmarked),
        "rows_retried_after_unknown": sum(1 for row in rows if row[6]),
        "stray_posts": len(stray),
        "settled": settled,
        "fault_seconds": _r(fault.done - fault.started) if fault.started and fault.done else None,
        "outage_seconds": _r(fault.ended - fault.started) if fault.started and fault.ended else None,
        "recovery_seconds": _r(recovery),
        "drain_seconds": _r(drain),
        "digests_late_seconds": {key: _r(value) for key, value in late.items()} if late else None,
        "record_lag_seconds": {"p50": _r(_pctl(lags, 50), 3), "max": _r(max(lags) if lags else None, 3)},
        "errors": dict(Counter((row[7] or "")[:120] for row in rows if row[7]).most_common(5)),
        "notes": fault.notes,
        "processes": processes,
        "examples": {
            "lost": [k[1][:80] for k in [key(row) for row in lost_rows[:3]]],
            "duplicated_outside_in_flight": [k[1][:80] for k in outside[:3]],
            "duplicated_unmarked": [k[1][:80] for k in unmarked[:3]],
        },
    }
    if fault.kind == "hung_webhook":
        result["hung"] = _hung_figures(by_key, posts, loaded, in_flight, key)
    return result


def _hung_figures(by_key: dict, posts: dict, loaded: dict, hung: set, key) -> dict:
    """The hung webhook's batch-mates: each recorded ``sent`` when its own answer came, or late?"""
    batch = next((ids for ids in loaded.get("batches", []) if loaded.get("hang_id") in ids), [])
    members = set(batch) - {loaded.get("hang_id")}
    lateness = []
    for k, row in by_key.items():
        entries = posts.get(k)
        if row[0] in members and row[4] == "sent" and row[8] is not None and entries and entries[0][1] is not None:
            lateness.append(row[8] - entries[0][1])
    hung_key = next(iter(hung), None)
    retry = None
    if hung_key is not None and len(posts.get(hung_key, ())) > 1:
        retry = posts[hung_key][1][0] - posts[hung_key][0][0]
    return {
        "batch_size": len(batch),
        "batch_mates_sent": len(lateness),
        "batch_mates_recorded_late_max_seconds": _r(max(lateness) if lateness else None, 3),
        "batch_mates_recorded_late_p50_seconds": _r(_pctl(lateness, 50), 3),
        "hung_message_retried_after_seconds": _r(retry),
        "hung_message_status": by_key[hung_key][4] if hung_key in by_key else None,
    }


# Batch-mates of a hung webhook must be recorded at their own time: within this of their answer.
HUNG_BATCH_MATE_LATENESS = 0.75


def problems(result: dict, *, bound_seconds: float) -> list[str]:
    """The issue's promises this fault's figures break (empty: all kept)."""
    found = []
    kind = result["fault"]
    if result["lost"]:
        found.append(f"{result['lost']} message(s) lost ({result['missing_rows']} never created)")
    if result["stuck"]:
        found.append(f"{result['stuck']} row(s) left {result['stuck_by_status']}")
    if result["delivered"] < result["rows"] - result["stuck"]:
        found.append(f"only {result['delivered']} of {result['rows']} rows reached a provider")
    open_calls = result["in_flight_at_fault"]["provider_open"]
    if kind == "sigterm" and result["duplicates"]:
        found.append(f"{result['duplicates']} duplicate(s) across a warm shutdown (expected none)")
    if result["duplicates"] > open_calls:
        found.append(f"{result['duplicates']} duplicate(s) > {open_calls} provider call(s) in flight at the fault")
    if result["duplicates_outside_in_flight"]:
        found.append(f"{result['duplicates_outside_in_flight']} message(s) re-sent that were not in flight")
    if result["duplicates_not_held_by_the_killed_worker"]:
        found.append(
            f"{result['duplicates_not_held_by_the_killed_worker']} message(s) re-sent that the killed worker "
            "did not hold in sending"
        )
    if result["duplicates_unmarked"]:
        found.append(f"{result['duplicates_unmarked']} duplicate(s) not marked on their row")
    if result["max_posts_per_message"] > 2:
        found.append(f"a message was posted {result['max_posts_per_message']} times")
    if result["stray_posts"]:
        found.append(f"{result['stray_posts']} post(s) match no notification row")
    if kind == "db_restart_idle" and result["digests_late_seconds"]:
        # Due a few seconds after the restart: the first and last digest, counted from when they fell due.
        late = result["digests_late_seconds"]
        if late["last"] > bound_seconds:
            found.append(f"last digest delivered {late['last']:.1f}s after it fell due (bound {bound_seconds:g}s)")
    elif kind != "none":
        recovery, drain = result["recovery_seconds"], result["drain_seconds"]
        if drain is not None and drain > bound_seconds:
            found.append(f"last message delivered {drain:.1f}s after the fault ended (bound {bound_seconds:g}s)")
        if drain is not None and drain > 0 and (recovery is None or recovery > bound_seconds):
            found.append(f"delivery resumed {recovery}s after the fault ended (bound {bound_seconds:g}s)")
    processes = result["processes"]
    if not processes["beat_alive"]:
        found.append("beat exited")
    if not processes["worker_alive"]:
        found.append("the worker exited")
    if processes["worker_replaced"] and kind not in ("kill_main", "sigterm"):
        found.append("the worker had to be replaced")
    if kind == "hung_webhook":
        late = result["hung"]["batch_mates_recorded_late_max_seconds"]
        if late is None or late > HUNG_BATCH_MATE_LATENESS:
            found.append(
                f"batch-mates of the hung webhook recorded up to {late}s after their answer "
                f"(bound {HUNG_BATCH_MATE_LATENESS}s)"
            )
    return found


# --- the Django side: python -m bench.faults <command> (environment from Harness.env) ------------


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birthdaybuddy.settings")
    django.setup()


def setup_template(*, workspaces: int, slack_prefix: str, tick_seconds: int | None, sweep_seconds: int | None) -> dict:
    """The load's workspaces (one Slack webhook each at the fake, plus one ``/hang/`` webhook),
    and — when asked — shorter intervals for the beat tick and sweeper."""
    _django()
    from django.db import transaction
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    from notifications.models import ChannelConfig
    from workspaces.models import Workspace

    now = timezone.now()
    with transaction.atomic():
        rows = [
            Workspace(name=f"Faults workspace {i:05d}", slug=f"faults-{i:05d}", timezone="UTC", created_at=now)
            for i in range(workspaces)
        ]
        rows.append(Workspace(name="Faults hung webhook", slug="faults-hang", timezone="UTC", created_at=now))
        Workspace.objects.bulk_create(rows, batch_size=2_000)
        configs = [
            ChannelConfig(
                workspace=workspace,
                kind="slack",
                webhook_url=f"{slack_prefix}T{i:07d}/B{i:07d}/faults{i:012d}",
                created_at=now,
            )
            for i, workspace in enumerate(rows[:-1])
        ]
        configs.append(
            ChannelConfig(
                workspace=rows[-1], kind="slack", webhook_url=f"{slack_prefix}hang/T0/B0/faultshang", created_at=now
            )
        )
        ChannelConfig.objects.bulk_create(configs, batch_size=2_000)
        changed = {}
        for task, seconds in (("scheduling.tick", tick_seconds), ("notifications.sweep", sweep_seconds)):
            if seconds:
                interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
                # One schedule per entry: the tick's migrated crontab (second 0 of each minute) gives way.
                changed[task] = PeriodicTask.objects.filter(task=task).update(interval=interval, crontab=None)
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return {"workspaces": workspaces, "intervals_changed": changed}


def load(*, slack: int, emails: int, tag: str, hang: bool) -> dict:
    """Slack digests (one per workspace) and emails written and queued in one transaction, as a
    tick does; ``hang``: one more Slack message, to the ``/hang/`` webhook, first in the second batch."""
    _django()
    from django.db import transaction

    from notifications import conf
    from notifications.models import Notification
    from notifications.services import notifications_enqueue, notifications_write
    from workspaces.models import Workspace

    workspaces = list(
        Workspace.objects.filter(slug__startswith="faults-0").order_by("slug").values_list("pk", flat=True)[:slack]
    )
    if len(workspaces) < slack:
        raise SystemExit(f"the template has {len(workspaces)} workspaces; {slack} needed")
    text = "🎂 Today: Ana Lima, Bo Chen · 🎉 5 years: Cy Dorsey"
    stride = max(1, slack // emails) if emails else 0
    rows: list[Notification] = []
    sent_emails = 0
    for i in range(slack):
        rows.append(
            Notification(
                workspace_id=workspaces[i],
                channel="slack",
                recipient="webhook",
                body=f"faults {tag} slack {i:05d}: {text}",
                idempotency_key=f"faults:{tag}:slack:{i}",
            )
        )
        if emails and i % stride == 0 and sent_emails < emails:
            rows.append(_email(workspaces[i], tag, sent_emails, text))
            sent_emails += 1
    while sent_emails < emails:
        rows.append(_email(workspaces[sent_emails % slack], tag, sent_emails, text))
        sent_emails += 1
    hang_row = None
    if hang:
        hang_row = Notification(
            workspace=Workspace.objects.get(slug="faults-hang"),
            channel="slack",
            recipient="webhook",
            body=f"faults {tag} hang: {text}",
            idempotency_key=f"faults:{tag}:hang",
        )
        rows.insert(min(len(rows), conf.batch_size()), hang_row)
    with transaction.atomic():
        ids = [str(pk) for pk in notifications_write(notifications=rows)]
        notifications_enqueue(notification_ids=ids)  # queued when this commits
    queued_at = time.time()
    size = conf.batch_size() if len(ids) >= conf.batch_threshold() else 1
    batches = [ids[start : start + size] for start in range(0, len(ids), size)]
    return {
        "expected": len(ids),
        "queued_at": queued_at,
        "batches": batches,
        "hang_id": str(hang_row.pk) if hang_row else None,
    }


def _email(workspace_id, tag: str, n: int, text: str):
    from notifications.models import Notification

    return Notification(
        workspace_id=workspace_id,
        channel="email",
        recipient=f"m{n:05d}-{tag}@faults.example",
        subject=f"Today's birthdays ({tag} {n})",
        body=f"faults {tag} email {n:05d}: {text}",
        idempotency_key=f"faults:{tag}:email:{n}",
    )


def digests(*, workspaces: int, emails: int, due: int, slack_prefix: str) -> dict:
    """Workspaces whose digest falls due at ``due`` (epoch seconds): a Slack webhook at the fake,
    one person with a birthday that day, and (``emails`` of them) a member who wants the email
    digest. The digest reminders are scheduled as ``digest_ensure`` schedules them."""
    _django()
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import ChannelConfig
    from reminders.models import Reminder, ReminderKind
    from reminders.schedule import reminder_due_at, reminder_next_slot
    from workspaces.models import Membership, Person, Role, Workspace

    at = datetime.fromtimestamp(due, UTC)
    now = timezone.now()
    day = at.date()
    other = day + timedelta(days=120)
    password = make_password(None)
    with transaction.atomic():
        rows = [
            Workspace(
                name=f"Digest workspace {i:05d}",
                slug=f"digest-{i:05d}",
                timezone="UTC",
                notify_at=at.time(),
                created_at=now,
            )
            for i in range(workspaces)
        ]
        Workspace.objects.bulk_create(rows, batch_size=2_000)
        ChannelConfig.objects.bulk_create(
            [
                ChannelConfig(
                    workspace=workspace, kind="slack", webhook_url=f"{slack_prefix}TD{i:07d}/BD{i:07d}/digest{i:09d}"
                )
                for i, workspace in enumerate(rows)
            ],
            batch_size=2_000,
        )
        people = [
            Person(
                workspace=workspace,
                name=f"Dora {i:05d}",
                slack_user_id=f"U{i:09d}",
                birth_month=day.month,
                birth_day=day.day,
            )
            for i, workspace in enumerate(rows)
        ]
        users = [
            User(email=f"d{i:05d}@faults.example", password=password, status=User.Status.VERIFIED)
            for i in range(min(emails, workspaces))
        ]
        User.objects.bulk_create(users, batch_size=2_000)
        Membership.objects.bulk_create(
            [Membership(workspace=rows[i], user=user, role=Role.MEMBER) for i, user in enumerate(users)],
            batch_size=2_000,
        )
        people += [
            Person(
                workspace=rows[i],
                user=user,
                name=f"Member {i:05d}",
                email=user.email,
                preferred_channels=["email"],
                birth_month=other.month,
                birth_day=other.day,
            )
            for i, user in enumerate(users)
        ]
        Person.objects.bulk_create(people, batch_size=2_000)
        reminders = []
        for workspace in rows:
            reminder = Reminder(
                workspace=workspace,
                kind=ReminderKind.BIRTHDAY_DIGEST,
                name="Birthday and anniversary digest",
                channels=["slack", "email"],
                created_at=now,
            )
            slot = reminder_next_slot(reminder=reminder, after=now)
            reminder.next_occurrence_at = slot.at
            reminder.next_run_at = reminder_due_at(reminder=reminder, slot=slot)
            if reminder.next_run_at != at:
                raise SystemExit(f"digest scheduled at {reminder.next_run_at}, not at {at}")
            reminders.append(reminder)
        Reminder.objects.bulk_create(reminders, batch_size=2_000)
    return {"expected": workspaces + len(users), "due": due}


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    template = commands.add_parser("setup-template", help="(inside the harness) the template's workspaces")
    template.add_argument("--workspaces", type=int, required=True)
    template.add_argument("--slack-prefix", required=True)
    template.add_argument("--tick-seconds", type=int)
    template.add_argument("--sweep-seconds", type=int)
    loading = commands.add_parser("load", help="(inside the harness) write and queue the load")
    loading.add_argument("--slack", type=int, required=True)
    loading.add_argument("--emails", type=int, required=True)
    loading.add_argument("--tag", required=True)
    loading.add_argument("--hang", action="store_true")
    digest = commands.add_parser("digests", help="(inside the harness) digests falling due at --due")
    digest.add_argument("--workspaces", type=int, required=True)
    digest.add_argument("--emails", type=int, required=True)
    digest.add_argument("--due", type=int, required=True)
    digest.add_argument("--slack-prefix", required=True)
    run = commands.add_parser("run", help="run faults with a private harness and print their figures")
    run.add_argument("faults", nargs="*", default=list(FAULTS), help=", ".join(FAULTS))
    run.add_argument("--timing", choices=sorted(TIMINGS), default="short")
    run.add_argument("--slack", type=int, default=Workload.slack)
    run.add_argument("--emails", type=int, default=Workload.emails)
    run.add_argument("--trigger", type=float, default=Workload.trigger)
    run.add_argument("--slack-delay", type=float, default=Workload.slack_delay)
    run.add_argument("--wait", type=float, default=Workload.wait_seconds)
    run.add_argument("--pg-port", type=int, default=55434)
    run.add_argument("--redis-port", type=int, default=56381)
    run.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args(argv)

    if args.command == "setup-template":
        result = setup_template(
            workspaces=args.workspaces,
            slack_prefix=args.slack_prefix,
            tick_seconds=args.tick_seconds,
            sweep_seconds=args.sweep_seconds,
        )
    elif args.command == "load":
        result = load(slack=args.slack, emails=args.emails, tag=args.tag, hang=args.hang)
    elif args.command == "digests":
        result = digests(workspaces=args.workspaces, emails=args.emails, due=args.due, slack_prefix=args.slack_prefix)
    else:
        timing = TIMINGS[args.timing]
        workload = Workload(
            slack=args.slack,
            emails=args.emails,
            slack_delay=args.slack_delay,
            trigger=args.trigger,
            wait_seconds=args.wait,
        )
        result = {"timing": asdict(timing), "workload": asdict(workload), "faults": {}}
        with Harness(
            pg_port=args.pg_port,
            redis_port=args.redis_port,
            timing=timing,
            template_workspaces=max(args.slack, 1),
            keep=args.keep,
        ) as harness:
            for kind in args.faults:
                figures = run_fault(harness, kind, workload)
                figures["problems"] = problems(figures, bound_seconds=timing.recovery_bound_seconds)
                log(f"faults: {kind}: {json.dumps(figures['problems'])}")
                result["faults"][kind] = figures
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
