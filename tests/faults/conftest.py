"""One private PostgreSQL cluster, Redis and fake providers for the whole fault module (bench/faults/)."""

import json
import os
import shutil

import pytest
from django.conf import settings

from bench import faults

PG_PORT = 25432
REDIS_PORT = 26379


def _missing_tools() -> str | None:
    if not (faults.PG_BIN / "initdb").exists():
        return f"no initdb in {faults.PG_BIN}"
    if shutil.which("redis-server") is None:
        return "no redis-server on PATH"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser (PostgreSQL must run as the postgres user)"
    return None


@pytest.fixture(scope="module")
def harness():
    """The private cluster (template migrated once), Redis, fake Slack and SMTP; removed at the end,
    whatever happened (the worker and beat of each scenario are stopped by ``run_fault`` itself)."""
    if settings.EMBEDDED:
        pytest.skip("fault tests run the PostgreSQL/Redis deployment")
    missing = _missing_tools()
    if missing:
        pytest.skip(missing)
    harness = faults.Harness(pg_port=PG_PORT, redis_port=REDIS_PORT, timing=faults.SHORT)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def record():
    """Prints a fault's figures (``-s`` shows them) and appends them to ``$BB_FAULTS_REPORT`` if set."""

    def write(name: str, figures: dict) -> None:
        line = json.dumps({"test": name, **figures}, default=str)
        print(f"\n{name}: {line}")
        path = os.environ.get("BB_FAULTS_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    return write
