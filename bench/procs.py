"""Child processes (worker, fake Slack, gunicorn, load generator), always cleaned up, and CPU accounting.

Every child runs in its own process group (``start_new_session``) so stopping it reaches
its own children (Celery's pool, gunicorn's workers) and nothing else. ``stop_all`` runs
from the CLI's ``finally`` and at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.environment import log

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_RUNNING: list[Child] = []


class Child:
    """A process started in its own session, its output in ``log_path``."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log_path: Path, cwd: str | os.PathLike):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pgid = self.process.pid
        _RUNNING.append(self)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of every live process in this child's process group."""
        return group_cpu_seconds(self.pgid)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the group (a warm shutdown for Celery and gunicorn), SIGKILL after ``timeout``."""
        if self in _RUNNING:
            _RUNNING.remove(self)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop within {timeout:g}s: killing its process group")
        # Pool children may outlive their parent for a moment: the whole group goes.
        deadline = time.monotonic() + 5
        while group_pids(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._log.close()


def stop_all() -> None:
    for child in list(_RUNNING):
        try:
            child.stop(timeout=10)
        except Exception as exc:  # cleanup must go on for the others
            log(f"could not stop {child.name}: {exc}")


atexit.register(stop_all)


def _stat_fields(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    return text[text.rfind(")") + 2 :].split()


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(entry)
        # fields[0] is the state (field 3); the process group is field 5.
        if fields and int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry))
    return pids


def pid_cpu_seconds(pid: int) -> float:
    fields = _stat_fields(str(pid))
    if not fields:
        return 0.0
    # utime, stime are fields 14, 15 (indexes 11, 12 here); cutime, cstime 16, 17 (reaped children).
    return sum(int(value) for value in fields[11:15]) / _CLOCK_TICKS


def group_cpu_seconds(pgid: int) -> float:
    return sum(pid_cpu_seconds(pid) for pid in group_pids(pgid))


class PostgresCpu:
    """CPU used by the PostgreSQL backends serving the bench database (approximate).

    Backends are local processes; a backend that started during the measurement counts in
    full, one that exited before its end is missed (connections are reused, so few do).
    """

    def __init__(self):
        self.start: dict[int, float] = {}

    @staticmethod
    def _backends() -> list[int]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            return [row[0] for row in cursor.fetchall()]

    def __enter__(self) -> PostgresCpu:
        self.start = {pid: pid_cpu_seconds(pid) for pid in self._backends()}
        return self

    def __exit__(self, *exc) -> None:
        return None

    def seconds(self) -> float:
        total = 0.0
        for pid in self._backends():
            total += max(0.0, pid_cpu_seconds(pid) - self.start.get(pid, 0.0))
        return round(total, 2)


def wait_for_port(port: int, *, timeout: float, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if child is not None and not child.alive:
            raise RuntimeError(f"{child.name} exited before listening:\n{child.tail()}")
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:g}s" + (f":\n{child.tail()}" if child else ""))
