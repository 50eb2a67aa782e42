"""How the worker is doing: its periodic jobs' last results, and a liveness file for the container.

**Jobs.** ``scheduling.tick`` and ``notifications.sweep`` run inside ``job_monitored(name)``,
which keeps in the cache when each last succeeded and failed, the last error and how many
runs in a row have failed. The cache, not the database: the interesting case is a database
that is down, when nothing could be written there. ``/health/ready`` shows it to staff,
``/health/worker`` answers 503 when the worker is not doing its work (the tick failing, or
not run for ``WORKER_STALE_SECONDS``), and the admin's delivery dashboard shows it.

**Liveness.** With ``WORKER_LIVENESS_FILE`` set, the worker's main process touches that file
every ``WORKER_LIVENESS_INTERVAL_SECONDS`` from its own event loop (a Celery bootstep on the
worker's timer), so a worker whose loop is stuck stops touching it.
``python -m birthdaybuddy.worker_health probe`` (docker compose's health check) fails when
the file is older than ``WORKER_LIVENESS_MAX_AGE_SECONDS`` and then stops the worker, so the
container's restart policy starts a new one (Docker itself never restarts a container only
because it is unhealthy).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from celery import bootsteps

logger = logging.getLogger(__name__)

JOBS = {"tick": "scheduling.tick", "sweep": "notifications.sweep"}
KEY = "worker-health:{}"


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def _record(name: str, *, error: BaseException | None) -> None:
    from django.core.cache import cache

    key = KEY.format(name)
    try:
        state = cache.get(key) or {}
        at = _now().isoformat()
        if error is None:
            state |= {"last_success_at": at, "consecutive_failures": 0}
        else:
            state |= {
                "last_failure_at": at,
                "last_error": f"{type(error).__name__}: {error}"[:500],
                "consecutive_failures": state.get("consecutive_failures", 0) + 1,
            }
        cache.set(key, state, timeout=None)
    except Exception as exc:  # the cache is down too: the job's own outcome is what matters
        logger.warning("could not record the %s job's health: %s", name, exc)


@contextmanager
def job_monitored(name: str):
    """Records the block's success or failure as the last run of job ``name`` (re-raising failures)."""
    try:
        yield
    except BaseException as exc:
        _record(name, error=exc)
        raise
    _record(name, error=None)


def _stale_after() -> float:
    from django.conf import settings

    return settings.WORKER_STALE_SECONDS


def jobs_status(*, now: datetime | None = None) -> dict:
    """Each job's last runs, with ``ok`` false when it last failed or has not succeeded lately.

    ``{"ok": bool, "jobs": {"tick": {"ok", "last_success_at", "seconds_since_success",
    "last_failure_at", "last_error", "consecutive_failures"}, …}}``. Raises if the cache
    cannot be read.
    """
    from django.core.cache import cache

    now = now or _now()
    states = cache.get_many([KEY.format(name) for name in JOBS])
    jobs = {}
    for name in JOBS:
        state = dict(states.get(KEY.format(name)) or {})
        last_success = state.get("last_success_at")
        since = (now - datetime.fromisoformat(last_success)).total_seconds() if last_success else None
        state["seconds_since_success"] = round(since, 1) if since is not None else None
        state["ok"] = since is not None and since <= _stale_after() and not state.get("consecutive_failures")
        jobs[name] = state
    return {"ok": all(job["ok"] for job in jobs.values()), "jobs": jobs}


# --- liveness -------------------------------------------------------------------------------


class LivenessFile(bootsteps.StartStopStep):
    """Touches ``WORKER_LIVENESS_FILE`` from the worker's timer (its main event loop)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        from django.conf import settings

        self.path = Path(settings.WORKER_LIVENESS_FILE) if settings.WORKER_LIVENESS_FILE else None
        self.interval = settings.WORKER_LIVENESS_INTERVAL_SECONDS
        self.tref = None
        super().__init__(worker, **kwargs)

    def start(self, worker):
        if self.path is None:
            return
        self.touch()
        self.tref = worker.timer.call_repeatedly(self.interval, self.touch, priority=10)

    def stop(self, worker):
        if self.tref is not None:
            self.tref.cancel()
            self.tref = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)  # a stopped worker is not alive

    def touch(self) -> None:
        try:
            self.path.touch()
        except OSError as exc:
            logger.warning("could not touch the liveness file %s: %s", self.path, exc)


def probe(path: str, max_age: float, pidfile: str | None) -> int:
    """0 if the liveness file is fresh; else 1. A stale file means a stuck loop: the worker (the
    pid in ``pidfile``) is stopped so that the container's restart policy replaces it — SIGTERM
    (a warm shutdown) first, SIGKILL once the file is twice as old (too stuck to act on SIGTERM).
    No file yet is a worker still starting (or one that never started): unhealthy, not stopped."""
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        print("worker not alive: no liveness file (starting, or not started)", file=sys.stderr)
        return 1
    if age <= max_age:
        return 0
    print(f"worker not alive: liveness file {age:.0f}s old (limit {max_age:g}s)", file=sys.stderr)
    if pidfile:
        try:
            pid = int(Path(pidfile).read_text().strip())
            sig = signal.SIGKILL if age > 2 * max_age else signal.SIGTERM
            os.kill(pid, sig)
            print(f"sent {sig.name} to the worker (pid {pid})", file=sys.stderr)
        except (OSError, ValueError) as exc:
            print(f"could not stop the worker: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    # The container's health check: no Django set-up, so it costs a few milliseconds.
    if sys.argv[1:2] != ["probe"]:
        sys.exit("usage: python -m birthdaybuddy.worker_health probe")
    sys.exit(
        probe(
            os.environ.get("WORKER_LIVENESS_FILE", "/tmp/worker-alive"),  # noqa: S108 - the container's own /tmp
            float(os.environ.get("WORKER_LIVENESS_MAX_AGE_SECONDS", "60")),
            os.environ.get("WORKER_PIDFILE"),
        )
    )
