"""The private servers and processes: PostgreSQL, Redis, the fake providers, Celery."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.faults.common import BASE_DIR, INHERITED_ENV, PG_BIN, _http_json, _own_port, _wait, free_port
from bench.procs import Child, group_pids, wait_for_port

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

    def start(self, attempts: int = 3) -> float:
        """Starts the server and waits until it accepts connections; returns that time.

        A start that fails is tried again after a second (twice): the log's last lines go into
        the error of the last try."""
        for attempt in range(1, attempts + 1):
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start")
            except RuntimeError as error:
                if attempt == attempts:
                    raise RuntimeError(f"{error}\n{self.log_tail()}") from None
                time.sleep(1)
            else:
                break
        self.running = True
        return time.time()

    def ensure_running(self) -> None:
        """Starts the server if a failed scenario left it stopped (the next one starts clean)."""
        if self.running:
            return
        self.start()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.logfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return f"(no log at {self.logfile})"
        return "\n".join(text.splitlines()[-lines:])

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

    def ensure_running(self) -> None:
        """Starts the server if a failed scenario left it stopped (the next one starts clean)."""
        if self.child is None or not self.child.alive:
            if self.child is not None:
                self.child.stop(timeout=2)
                self.child = None
            self.start()

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
