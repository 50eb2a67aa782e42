"""``manage.py runstack`` (``make run``): the preparation in-process, the supervision for real."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from accounts.models import User
from tests.factories import UserFactory, WorkspaceFactory
from workspaces.models import Person, Workspace

BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def setup_only(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.ADMIN_EMAIL = ""
    settings.ADMIN_PASSWORD = ""

    def run() -> str:
        out = StringIO()
        call_command("runstack", setup_only=True, stdout=out)
        return out.getvalue()

    return run


@pytest.mark.django_db
def test_first_run_creates_an_admin_with_a_random_password_and_the_demo(setup_only, settings):
    output = setup_only()

    admin = User.objects.get(email="admin@birthdaybuddy.local")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.is_verified
    password = re.search(r"Generated password for admin@birthdaybuddy.local: (\S+)", output)
    assert password is not None, output
    assert admin.check_password(password.group(1))
    assert Workspace.objects.filter(slug="demo").exists()
    assert Path(settings.STATIC_ROOT, "admin", "css", "base.css").exists()


@pytest.mark.django_db
def test_second_run_keeps_the_admin_and_does_not_reseed(setup_only):
    setup_only()
    admin = User.objects.get(email="admin@birthdaybuddy.local")
    people_before = Person.objects.count()

    output = setup_only()

    assert User.objects.filter(is_superuser=True).count() == 1
    assert User.objects.get(pk=admin.pk).password == admin.password  # not reset
    assert "Generated password" not in output
    assert Person.objects.count() == people_before


@pytest.mark.django_db
def test_admin_from_the_environment_is_created_and_kept_in_step(setup_only, settings):
    settings.ADMIN_EMAIL = "Owner@Example.com"
    settings.ADMIN_PASSWORD = "Env-Passw0rd-For-Admin"
    setup_only()
    admin = User.objects.get(email="owner@example.com")
    assert admin.check_password("Env-Passw0rd-For-Admin")
    assert Workspace.objects.get(slug="demo").memberships.get().user == admin

    settings.ADMIN_PASSWORD = "Changed-Passw0rd-For-Admin"
    setup_only()
    admin.refresh_from_db()
    assert admin.check_password("Changed-Passw0rd-For-Admin")


@pytest.mark.django_db
def test_an_existing_database_with_workspaces_gets_no_demo(setup_only):
    UserFactory(is_superuser=True, is_staff=True)
    WorkspaceFactory(slug="real-team")
    setup_only()
    assert not Workspace.objects.filter(slug="demo").exists()
    assert not User.objects.filter(email="admin@birthdaybuddy.local").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local http URL we built
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait_for(predicate, *, timeout: float, what: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"runstack exited ({process.returncode}) while waiting for {what}:\n{log.read_text()}")
        if predicate():
            return
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()}")


@pytest.mark.slow
def test_the_stack_serves_runs_tasks_from_other_processes_and_stops_cleanly_on_sigint(tmp_path):
    """GIVEN a fresh embedded installation (SQLite file, file cache, file-system broker)
    WHEN runstack starts, a task is sent from another process and SIGINT arrives
    THEN the API answers, the worker runs the task, and everything exits 0 within the timeout.
    """
    port = _free_port()
    log = tmp_path / "runstack.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "BB_TEST_EMBEDDED", "BB_TESTING", "PYTEST_CURRENT_TEST"}
    }
    env |= {
        # Empty, not absent: a developer's .env must not switch this run to PostgreSQL/Redis.
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "FILE_CACHE_DIR": str(tmp_path / "cache"),
        "BROKER_DIR": str(tmp_path / "broker"),  # honoured once settings read it (see the report)
        "ADMIN_EMAIL": "",
        "ADMIN_PASSWORD": "",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port), "--no-demo", "--stop-timeout", "20"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(
            lambda: "Press Ctrl-C to stop." in log.read_text(), timeout=120, what="the banner", process=process, log=log
        )
        status, body = _get(f"{base}/health/ready")
        assert status == 200, body
        assert _get(f"{base}/api/docs/")[0] == 200
        assert re.search(r"password: \S{12,}", log.read_text())

        sent = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "birthdaybuddy", "call", "accounts.cleanup_unverified_users"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        task_id = sent.stdout.strip().splitlines()[-1]
        _wait_for(
            lambda: f"[{task_id}] succeeded" in log.read_text(),
            timeout=30,
            what=f"task {task_id}",
            process=process,
            log=log,
        )

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, log.read_text()
        text = log.read_text()
        assert "web stopped (exit code 0)" in text
        assert "worker stopped (exit code 0)" in text
        assert "killed" not in text.lower()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.django_db
def test_a_missing_postgresql_database_is_created_and_an_existing_one_left_alone(settings):
    from django.db import connection
    from django.db.backends.postgresql.base import DatabaseWrapper

    from scheduling.management.commands.runstack import ensure_postgresql_database

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    name = f"{connection.settings_dict['NAME']}_fresh"
    fresh = DatabaseWrapper({**connection.settings_dict, "NAME": name})
    try:
        assert ensure_postgresql_database(fresh) is True
        fresh.ensure_connection()
        with fresh.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone()[0] == name
        fresh.close()
        assert ensure_postgresql_database(fresh) is False
    finally:
        fresh.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(name)}")


@pytest.mark.slow
@pytest.mark.django_db
def test_make_run_on_a_missing_postgresql_database_creates_it():
    """The README's PostgreSQL variant of ``make run`` on a server without the database yet."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    database = f"bb_runstack_fresh_{os.getpid()}"
    host, port = connection.settings_dict["HOST"] or "127.0.0.1", connection.settings_dict["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{connection.settings_dict['USER']}@{host}:{port}/{database}",
    }
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "runstack", "--setup-only", "--no-demo"],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"Created the database {database}." in result.stdout
        assert "Traceback" not in result.stderr
    finally:
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(database)} WITH (FORCE)")
