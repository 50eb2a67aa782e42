"""The worker's health: its periodic jobs' last results (/health/worker, staff details in
/health/ready) and the liveness probe docker compose runs."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from birthdaybuddy import worker_health
from notifications import tasks as notification_tasks
from scheduling import tasks as scheduling_tasks
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _no_history():
    cache.delete_many([worker_health.KEY.format(name) for name in worker_health.JOBS])


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


@pytest.mark.django_db
def test_worker_is_ready_once_tick_and_sweep_have_run(client):
    before = client.get("/health/worker")
    assert before.status_code == 503
    assert before.json()["jobs"]["tick"] == {"ok": False, "seconds_since_success": None, "consecutive_failures": None}

    scheduling_tasks.tick()
    notification_tasks.sweep()

    after = client.get("/health/worker")
    body = after.json()
    assert after.status_code == 200, body
    assert body["status"] == "ok"
    for name in ("tick", "sweep"):
        assert body["jobs"][name]["ok"] is True
        assert 0 <= body["jobs"][name]["seconds_since_success"] < 5
        assert body["jobs"][name]["consecutive_failures"] == 0


@pytest.mark.django_db
def test_a_failing_tick_makes_the_worker_unready_and_staff_see_why(client, staff_client):
    scheduling_tasks.tick()
    notification_tasks.sweep()
    for _ in range(2):
        with pytest.raises(ConnectionError), worker_health.job_monitored("tick"):
            raise ConnectionError("the connection is closed")

    public = client.get("/health/worker")
    assert public.status_code == 503
    assert public.json()["jobs"]["tick"]["consecutive_failures"] == 2
    assert "last_error" not in public.json()["jobs"]["tick"]  # error texts are for staff

    detailed = staff_client.get("/health/worker").json()["jobs"]["tick"]
    assert detailed["last_error"] == "ConnectionError: the connection is closed"
    assert detailed["last_failure_at"] > detailed["last_success_at"]

    scheduling_tasks.tick()  # the next good tick clears it
    assert client.get("/health/worker").status_code == 200


@pytest.mark.django_db
def test_a_tick_not_run_for_too_long_makes_the_worker_unready(client, settings):
    scheduling_tasks.tick()
    notification_tasks.sweep()
    settings.WORKER_STALE_SECONDS = 0.2
    time.sleep(0.3)
    body = client.get("/health/worker").json()
    assert body["status"] == "unavailable"
    assert body["jobs"]["tick"]["ok"] is False
    assert body["jobs"]["tick"]["consecutive_failures"] == 0


@pytest.mark.django_db
def test_ready_shows_the_worker_to_staff_only(client, staff_client):
    scheduling_tasks.tick()
    assert "worker" not in client.get("/health/ready").json()
    worker = staff_client.get("/health/ready").json()["worker"]
    assert worker["jobs"]["tick"]["ok"] is True
    assert worker["jobs"]["sweep"]["ok"] is False  # not run yet: shown, and not ready


def _probe(tmp_path, **env):
    return subprocess.run(
        [sys.executable, "-m", "birthdaybuddy.worker_health", "probe"],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_liveness_probe_passes_on_a_fresh_file_and_stops_a_stuck_worker(tmp_path):
    alive = tmp_path / "alive"
    alive.touch()
    fresh = _probe(tmp_path, WORKER_LIVENESS_FILE=str(alive), WORKER_LIVENESS_MAX_AGE_SECONDS="60")
    assert fresh.returncode == 0, fresh.stderr

    stuck = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pidfile = tmp_path / "worker.pid"
    pidfile.write_text(str(stuck.pid))
    stale = time.time() - 90
    os.utime(alive, (stale, stale))
    try:
        result = _probe(
            tmp_path,
            WORKER_LIVENESS_FILE=str(alive),
            WORKER_LIVENESS_MAX_AGE_SECONDS="60",
            WORKER_PIDFILE=str(pidfile),
        )
        assert result.returncode == 1
        # The probe's own start-up (a second or two on a loaded machine) adds to the file's age.
        assert re.search(r"liveness file (9[0-9])s old", result.stderr), result.stderr
        assert stuck.wait(timeout=10) == -signal.SIGTERM  # asked to stop: the restart policy takes over
    finally:
        stuck.kill()
        stuck.wait()


def test_liveness_probe_fails_without_a_file(tmp_path):
    result = _probe(tmp_path, WORKER_LIVENESS_FILE=str(tmp_path / "missing"))
    assert result.returncode == 1
    assert "no liveness file" in result.stderr
