"""Where the benchmark runs: its own database and Redis databases, and the machine it runs on.

Nothing here imports Django: the environment must be set before the settings are read.
"""

from __future__ import annotations

import os
import platform
import socket
import sys
import time
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/birthdaybuddy_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
CACHE_DB = 13
BROKER_DB = 12
# Databases the benchmark must never create, migrate, truncate or seed.
PROTECTED_DATABASES = frozenset({"birthdaybuddy", "postgres", "template0", "template1"})


def log(message: str) -> None:
    """Progress for humans, on stderr (stdout carries only the JSON summary)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def check_database_url(url: str) -> str:
    """The database name, if it is one the benchmark may own (its name says "bench")."""
    name = database_name(url)
    if not name or name in PROTECTED_DATABASES or name.startswith("test") or "bench" not in name:
        raise SystemExit(f"refusing to use database {name!r}: the benchmark's database name must contain 'bench'")
    return name


def small_database_url(url: str) -> str:
    """The companion database for the 1/100-size idle tick."""
    parts = urlsplit(url)
    return parts._replace(path=parts.path.rstrip("/") + "_small").geturl()


def redis_server(url: str) -> str:
    """``redis://host:port`` of a Redis URL, without a database number (the bench picks its own)."""
    return urlsplit(url)._replace(path="", query="", fragment="").geturl()


def configure(*, database_url: str, redis_url: str, slack_port: int) -> dict[str, str]:
    """Sets (and returns) the environment the bench process and its children run with."""
    redis_url = redis_url.rstrip("/")
    env = {
        "DJANGO_SETTINGS_MODULE": "birthdaybuddy.settings",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "600",
        "REDIS_URL": f"{redis_url}/{CACHE_DB}",
        "CELERY_BROKER_URL": f"{redis_url}/{BROKER_DB}",
        "CACHE_KEY_PREFIX": "bbbench",
        "BB_TEST_EMBEDDED": "0",
        "BB_TESTING": "0",
        "PRODUCTION": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "NOTIFICATIONS_CONSOLE_FALLBACK": "0",
        # Benchmarks measure throughput, not the per-destination limit (1 msg/s per webhook).
        "NOTIFICATIONS_RATE_LIMIT_ENABLED": "False",
        "SLACK_WEBHOOK_URL_PREFIXES": f"http://127.0.0.1:{slack_port}/services/",
        "SLACK_TIMEOUT_SECONDS": "10",
        "JWT_ACCESS_MINUTES": "720",
        "THROTTLE_USER": "100000000/min",
    }
    os.environ.update(env)
    return env


def create_database(url: str) -> bool:
    """Creates the database if it is missing; returns whether it did."""
    import psycopg
    from psycopg import sql

    name = check_database_url(url)
    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def recreate_database(url: str) -> None:
    """Drops and creates the bench database, so the schema is exactly today's migrations."""
    import psycopg
    from psycopg import sql

    name = check_database_url(url)
    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(redis_url: str) -> None:
    """Empties the bench's own Redis databases (cache and broker), nothing else."""
    import redis

    for db in (CACHE_DB, BROKER_DB):
        redis.Redis.from_url(f"{redis_url.rstrip('/')}/{db}").flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the fake binds: TIME_WAIT is fine
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def loadavg() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _probe_workload() -> int:
    counts: dict[int, int] = {}
    for i in range(200_000):
        counts[i % 1000] = counts.get(i % 1000, 0) + i * 3 // 7
    return len(counts)


def cpu_probe_ms() -> float:
    """CPU milliseconds of a fixed pure-Python workload, the best of three: a rough reading of
    how fast this machine's core is right now. A shared VM slows down and speeds up with its
    neighbours, so each scenario records it before and after; a slow spell can also hit what
    a short loop does not (memory, I/O), so an unchanged reading proves little."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        _probe_workload()
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def machine(*, redis_url: str) -> dict:
    """The machine and the versions the figures were taken with."""
    import celery
    import django
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    redis_version = redis.Redis.from_url(f"{redis_url.rstrip('/')}/{CACHE_DB}").info("server").get("redis_version")
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "ram_gib": _ram_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgresql": postgres,
        "redis": redis_version,
        "loadavg_at_start": loadavg(),
    }
