"""The harness: the private servers, the template database, the worker and beat, started and stopped."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.environment import log
from bench.faults.common import BASE_DIR, BROKER_DB, CACHE_DB, SECRET_KEY, TEMPLATE_DB, Timing, Workload
from bench.faults.servers import CeleryProcess, CountingSmtp, FakeSlack, PrivatePostgres, PrivateRedis, _base_env

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
        self.pg.ensure_running()
        self.redis.ensure_running()
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
