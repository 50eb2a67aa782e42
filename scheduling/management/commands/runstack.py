"""``manage.py runstack``: the whole service in one command; ``make run`` calls it.

It prepares the database (migrate, a superuser, the demo workspace on a fresh database,
static files), then runs the web server and a Celery worker with embedded beat as child
processes and supervises them:

- SIGINT, SIGTERM and SIGHUP make it stop both children gracefully. Each child's *main*
  process gets its stop signal (runserver: SIGINT; gunicorn and Celery: SIGTERM, a warm
  shutdown that lets running tasks finish); pool processes are left to their parent. After
  ``--stop-timeout`` seconds (default 30) whatever is left is killed. A second signal
  kills at once. (honcho, tried first, SIGKILLs after 5 s and signals pool children
  directly, so running tasks were lost.)
- If either child exits on its own, the other is stopped and ``runstack`` exits non-zero.
- The children run in their own sessions, so a Ctrl-C in the terminal reaches only this
  supervisor, and on Linux they receive SIGTERM if the supervisor itself is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor

from workspaces.models import Workspace

DEFAULT_ADMIN_EMAIL = "admin@birthdaybuddy.local"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    stop_signal: signal.Signals
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class AdminLogin:
    email: str
    password: str | None  # only when it was generated just now: printed once, never stored


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a member we may not signal still exists
        return True
    return True


def broker_is_embedded() -> bool:
    from birthdaybuddy.celery import app

    configured = f"{app.conf.broker_transport or ''} {app.conf.broker_url or ''}".lower()
    return "filesystem" in configured


def ensure_postgresql_database(conn) -> bool:
    """Creates ``conn``'s database when the server is reachable but the database is missing.

    Returns True when it created it; False when it exists already (the problem lies
    elsewhere) or the server cannot be reached.
    """
    name = conn.settings_dict["NAME"]
    try:
        with conn._nodb_cursor() as cursor:  # the maintenance database, as Django's test runner uses
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(f"CREATE DATABASE {conn.ops.quote_name(name)}")
    except OperationalError:
        return False
    return True


class Command(BaseCommand):
    help = (
        "Runs BirthdayBuddy: migrates, creates an admin and the demo workspace on first run, collects static "
        "files, then supervises the web server and a Celery worker with embedded beat until Ctrl-C."
    )
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Address the web server binds (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port of the web server (default 8000).")
        parser.add_argument("--gunicorn", action="store_true", help="Serve with gunicorn instead of runserver.")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (with --gunicorn).")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="Celery worker concurrency (default: 4 threads on the embedded broker, one process per CPU on Redis).",
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not create the demo workspace.")
        parser.add_argument("--setup-only", action="store_true", help="Prepare everything, then exit without serving.")
        parser.add_argument(
            "--stop-timeout", type=float, default=30.0, help="Seconds to wait for a graceful stop before killing."
        )

    def handle(self, *args, **options):
        login = self.prepare(demo=not options["no_demo"])
        if options["setup_only"]:
            return
        code = self.serve(options, login)
        if code:
            raise SystemExit(code)

    # --- Preparation ----------------------------------------------------------------------

    def prepare(self, *, demo: bool) -> AdminLogin | None:
        self._ensure_folders()
        self._ensure_database()
        self._migrate()
        login = self._bootstrap_admin()
        if demo:
            self._seed_demo(owner_email=login.email if login else None)
        call_command("collectstatic", interactive=False, verbosity=0)
        return login

    def _ensure_folders(self) -> None:
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3") and str(database["NAME"]) != ":memory:":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)

    def _ensure_database(self) -> None:
        """A PostgreSQL database that does not exist yet is created (the server must be reachable)."""
        if connection.vendor != "postgresql":
            return
        name = settings.DATABASES["default"]["NAME"]
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if not ensure_postgresql_database(connection):
                raise CommandError(f"Cannot connect to {self._database_label()}: {str(exc).strip()}") from None
            self.stdout.write(f"Created the database {name}.")

    def _migrate(self) -> None:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            self.stdout.write(f"Applying {len(plan)} migration(s) to {self._database_label()}…")
        else:
            self.stdout.write(f"Database {self._database_label()} is up to date.")
        call_command("migrate", interactive=False, verbosity=0)

    def _database_label(self) -> str:
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            return f"SQLite {database['NAME']}"
        return f"{connection.vendor} {database.get('HOST') or 'localhost'}/{database['NAME']}"

    def _bootstrap_admin(self) -> AdminLogin | None:
        """The superuser to log in with: from ADMIN_EMAIL/ADMIN_PASSWORD, else one with a random password.

        With both variables set the account is created or updated on every start (the
        environment is the source of truth). Otherwise a superuser is created only when
        there is none; its generated password is shown once.
        """
        if settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD:
            self._create_or_update_admin(settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD)
            return AdminLogin(email=settings.ADMIN_EMAIL.lower(), password=None)
        if get_user_model().objects.filter(is_superuser=True).exists():
            return None
        email = settings.ADMIN_EMAIL or DEFAULT_ADMIN_EMAIL
        if settings.ADMIN_PASSWORD:
            self._create_or_update_admin(email, settings.ADMIN_PASSWORD)
            return AdminLogin(email=email.lower(), password=None)
        password = secrets.token_urlsafe(12)
        self._create_or_update_admin(email, password)
        self.stdout.write(self.style.WARNING(f"Generated password for {email}: {password}  (shown only now)"))
        return AdminLogin(email=email.lower(), password=password)

    def _create_or_update_admin(self, email: str, password: str) -> None:
        if "bootstrap_admin" in get_commands():
            call_command("bootstrap_admin", email=email, password=password, stdout=self.stdout, stderr=self.stderr)
            return
        user_model = get_user_model()
        user = user_model.objects.filter(email__iexact=email).first()
        if user is None:
            user_model.objects.create_superuser(email=email, password=password)
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()
        self.stdout.write(f"Superuser {email} is ready.")

    def _seed_demo(self, *, owner_email: str | None) -> None:
        if Workspace.objects.exists():
            return  # not the first run: the demo is seeded into a fresh database only
        options = {"owner": owner_email} if owner_email else {}
        call_command("seed_demo", stdout=self.stdout, stderr=self.stderr, **options)

    # --- Serving --------------------------------------------------------------------------

    def children(self, options) -> list[Child]:
        host, port = options["host"], options["port"]
        python = sys.executable
        if options["gunicorn"]:
            web = Child(
                "web",
                [
                    python, "-m", "gunicorn", "birthdaybuddy.wsgi",
                    "--config", "python:birthdaybuddy.gunicorn_conf",
                    "--bind", f"{host}:{port}",
                    "--workers", str(options["workers"]),
                    "--graceful-timeout", str(max(1, int(options["stop_timeout"]) - 5)),
                    "--access-logfile", "-",
                    "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s',
                ],
                signal.SIGTERM,
            )  # fmt: skip
        else:
            manage = str(Path(settings.BASE_DIR) / "manage.py")
            web = Child(
                "web", [python, manage, "runserver", f"{host}:{port}", "--noreload", "--skip-checks"], signal.SIGINT
            )
        worker_argv = [python, "-m", "celery", "-A", "birthdaybuddy", "worker", "--beat", "--loglevel=INFO"]
        if broker_is_embedded():
            # Threads: one process keeps the SQLite writers few. The file-system broker has
            # no fanout, so the broadcast-based gossip and mingle are off.
            concurrency = options["concurrency"] or 4
            worker_argv += ["--pool=threads", f"--concurrency={concurrency}", "--without-gossip", "--without-mingle"]
        else:
            worker_argv += ["--pool=prefork"]
            if options["concurrency"]:
                worker_argv.append(f"--concurrency={options['concurrency']}")
        return [web, Child("worker", worker_argv, signal.SIGTERM)]

    def serve(self, options, login: AdminLogin | None) -> int:
        if self._port_open(options["host"], options["port"]):
            self.stderr.write(
                f"Port {options['port']} is already in use (another `make run`?). Stop it or pass --port."
            )
            return 1
        received: list[int] = []

        def on_signal(signum, frame):
            received.append(signum)

        previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
        children = self.children(options)
        try:
            # Links in messages point where this server listens, unless PUBLIC_BASE_URL says otherwise.
            env = {**os.environ, "PYTHONUNBUFFERED": "1", "BB_SERVED_URL": self.served_url(options)}
            for child in children:
                child.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    child.argv,
                    cwd=settings.BASE_DIR,
                    env=env,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            code = self._supervise(children, received, options, login)
            self._stop(children, received, timeout=options["stop_timeout"])
            return code
        finally:
            for child in children:
                if child.running:
                    self._kill(child)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _supervise(self, children: list[Child], received: list[int], options, login: AdminLogin | None) -> int:
        announced = False
        while True:
            if received:
                self.stdout.write(f"\n{signal.Signals(received[0]).name} received: stopping (again to force)…")
                return 0
            for child in children:
                code = child.process.poll()
                if code is not None:
                    self.stderr.write(f"The {child.name} process exited with code {code}; stopping the rest.")
                    return code if code > 0 else 1
            if not announced and self._port_open(options["host"], options["port"]):
                self._announce(options, login)
                announced = True
            time.sleep(POLL_SECONDS)

    def _stop(self, children: list[Child], received: list[int], *, timeout: float) -> None:
        signals_before = len(received)
        for child in children:
            if child.running:
                os.kill(child.process.pid, child.stop_signal)
        deadline = time.monotonic() + timeout
        forced = False
        while any(child.running for child in children):
            if len(received) > signals_before:
                self.stderr.write("Second signal: killing now.")
                forced = True
                break
            if time.monotonic() >= deadline:
                self.stderr.write(f"Still running after {timeout:g} s: killing.")
                forced = True
                break
            time.sleep(POLL_SECONDS)
        for child in children:
            if child.running:
                self._kill(child)
            else:
                self.stdout.write(f"{child.name} stopped (exit code {child.process.returncode}).")
        self._reap_orphans(children, grace=0 if forced else min(5.0, timeout))

    def _reap_orphans(self, children: list[Child], *, grace: float) -> None:
        """Stops what a child left behind in its process group (a killed worker's beat process)."""
        left = [child for child in children if _group_alive(child.process.pid)]
        for child in left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGTERM if grace else signal.SIGKILL)
        deadline = time.monotonic() + grace
        while left and time.monotonic() < deadline:
            left = [child for child in left if _group_alive(child.process.pid)]
            time.sleep(POLL_SECONDS)
        for child in left:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            self.stderr.write(f"Killed processes left behind by {child.name}.")

    def _kill(self, child: Child) -> None:
        # The child leads its own session, so its group holds its pool processes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signal.SIGKILL)
        child.process.wait()
        self.stderr.write(f"{child.name} killed.")

    @staticmethod
    def _port_open(host: str, port: int) -> bool:
        target = "127.0.0.1" if host in ("0.0.0.0", "") else host.strip("[]")  # noqa: S104 - a comparison, not a bind
        try:
            with socket.create_connection((target, port), timeout=0.5):
                return True
        except OSError:
            return False

    @staticmethod
    def served_url(options) -> str:
        """The address this server answers on, e.g. ``http://127.0.0.1:8100``."""
        host = "127.0.0.1" if options["host"] in ("0.0.0.0", "") else options["host"]  # noqa: S104
        return f"http://{host}:{options['port']}"

    def _announce(self, options, login: AdminLogin | None) -> None:
        base = self.served_url(options)
        lines = [
            "",
            "BirthdayBuddy is running.",
            f"  API docs:   {base}/api/docs/",
            f"  Admin:      {base}/admin/",
            f"  Health:     {base}/health/ready",
        ]
        if login and login.password:
            lines.append(f"  Log in as:  {login.email}  password: {login.password}")
            lines.append("              (shown only now; change it in the admin or set ADMIN_PASSWORD)")
        elif login:
            lines.append(f"  Log in as:  {login.email} with ADMIN_PASSWORD")
        else:
            lines.append("  Log in with the superuser created on the first run (manage.py bootstrap_admin resets it).")
        demo = Workspace.objects.filter(slug="demo").first()
        if demo is not None:
            lines.append(f"  Demo:       workspace '{demo.name}' (slug {demo.slug}, id {demo.id})")
        lines += [f"  Database:   {self._database_label()}", "Press Ctrl-C to stop.", ""]
        self.stdout.write("\n".join(lines))
        connection.close()  # the supervisor keeps no database connection open while it waits
