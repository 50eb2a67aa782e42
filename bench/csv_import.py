"""``python -m bench.csv_import``: CSV import of people, timed (50,000 rows by default); prints JSON.

Runs against a database of its own (its name must contain "bench"; created and migrated if
missing) and Redis database 13 with its own key prefix. Each run imports into new
workspaces, so runs do not disturb each other. Timed, each on the same file:

- ``first_import``: every row creates a person (service call: read, check, match, write, audit);
- ``dry_run``: the same checks and matching against the now-full workspace, no writes;
- ``reimport_unchanged``: the same file again: every row matches and nothing is written;
- ``reimport_changed``: every row changes a field: 50,000 updates;
- ``api_upload``: ``POST …/people/import`` with a multipart upload, in process (Django's test
  client: middleware, JWT, parsing, the view), into a fresh workspace;
- ``command``: ``manage.py import_people`` in a subprocess (Django start-up included), into
  a fresh workspace.

Progress goes to stderr; stdout carries only the JSON. :func:`csv_import` is the same as a
scenario of ``python -m bench`` (it takes the harness's context).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/birthdaybuddy_bench_csv"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
TARGET_SECONDS = 60.0


def log(message: str) -> None:
    print(f"[bench csv {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_csv(rows: int, *, seed: int, rename: bool = False) -> bytes:
    """``rows`` valid, distinct people (unique email and E.164 phone), every column used."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["name", "email", "phone", "birthday", "joined_on", "show_age", "preferred_channels", "opted_out_channels"]
    )
    start = date(2010, 1, 1)
    for n in range(rows):
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        birthday = f"{rng.randint(1950, 2005)}-{month:02d}-{day:02d}" if n % 3 else f"--{month:02d}-{day:02d}"
        writer.writerow(
            [
                f"Person {n}" + (" (renamed)" if rename else ""),
                f"person{n}@example.com",
                f"+49151{n:08d}",
                birthday,
                (start + timedelta(days=rng.randint(0, 5000))).isoformat(),
                "yes" if n % 2 else "no",
                "email;sms" if n % 4 else "slack",
                "whatsapp" if n % 5 == 0 else "",
            ]
        )
    return out.getvalue().encode()


def configure(database_url: str, redis_url: str) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "birthdaybuddy.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "bbbenchcsv",
            "BB_TEST_EMBEDDED": "0",
            "BB_TESTING": "0",
            "PRODUCTION": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_USER": "100000000/min",
        }
    )


def timed(label: str, func) -> tuple[float, object]:
    log(f"{label} …")
    started = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - started
    log(f"{label}: {seconds:.2f} s")
    return seconds, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.csv_import", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database for the cache")
    parser.add_argument("--skip-command", action="store_true", help="skip the manage.py subprocess run")
    args = parser.parse_args(argv)

    from bench.environment import check_database_url, create_database

    check_database_url(args.database_url)
    configure(args.database_url, args.redis_url)
    created = create_database(args.database_url)
    log(("created" if created else "using") + " database " + args.database_url.rsplit("/", 1)[-1])

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(json.dumps(run(rows=args.rows, seed=args.seed, with_command=not args.skip_command), indent=2))
    return 0


def csv_import(ctx) -> dict:
    """The same, as a scenario of ``python -m bench`` (``bench/scenarios``): its database, its seed."""
    return run(rows=getattr(ctx.args, "csv_rows", 50_000), seed=ctx.seed, with_command=True)


def run(*, rows: int, seed: int, with_command: bool) -> dict:
    """Times the imports (Django set up, database migrated); returns the summary."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from accounts.tokens import AccessToken
    from workspaces.importing import people_import
    from workspaces.models import Membership, Person, Role, Workspace

    load_at_start = [round(value, 2) for value in os.getloadavg()]
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d%H%M%S")

    def new_workspace(name: str) -> Workspace:
        return Workspace.objects.create(name=f"CSV bench {name} {stamp}", slug=f"csv-bench-{name}-{stamp}")

    data = make_csv(rows, seed=seed)
    renamed = make_csv(rows, seed=seed, rename=True)
    log(f"{rows:,} rows, {len(data):,} bytes (the upload limit is {settings.MAX_UPLOAD_BODY_BYTES:,})")
    actor, _ = User.objects.get_or_create(email="csv-bench@example.com", defaults={"status": "verified"})

    results: dict[str, dict] = {}

    def record(name: str, seconds: float, result) -> None:
        counts = {k: getattr(result, k) for k in ("created", "updated", "unchanged", "skipped")} if result else {}
        results[name] = {"seconds": round(seconds, 3), "rows_per_second": round(rows / seconds), **counts}

    workspace = new_workspace("service")
    for name, payload, kwargs in (
        ("first_import", data, {}),
        ("dry_run", data, {"dry_run": True}),
        ("reimport_unchanged", data, {}),
        ("reimport_changed", renamed, {}),
    ):
        seconds, result = timed(
            name, lambda p=payload, k=kwargs: people_import(workspace=workspace, data=p, actor=actor, **k)
        )
        record(name, seconds, result)
    people = Person.objects.filter(workspace=workspace).count()
    if people != rows:
        raise SystemExit(f"expected {rows} people after the imports, found {people}")

    api_workspace = new_workspace("api")
    Membership.objects.create(workspace=api_workspace, user=actor, role=Role.OWNER)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(actor)}")
    url = f"/api/v1/workspaces/{api_workspace.pk}/people/import"

    def upload():
        upload_file = io.BytesIO(data)
        upload_file.name = "people.csv"
        response = client.post(url, {"file": upload_file})
        if response.status_code != 200:
            raise SystemExit(f"api_upload answered {response.status_code}: {response.content[:500]!r}")
        return response.json()

    seconds, body = timed("api_upload", upload)
    results["api_upload"] = {
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "created": body["created"],
    }

    if with_command:
        command_workspace = new_workspace("command")
        with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
            handle.write(data)
        command = [sys.executable, "manage.py", "import_people", "--workspace", command_workspace.slug, handle.name]
        seconds, completed = timed(
            "command",
            lambda: subprocess.run(command, cwd=BASE_DIR, capture_output=True, text=True, check=False, env=os.environ),
        )
        Path(handle.name).unlink()
        if completed.returncode != 0:
            raise SystemExit(f"import_people failed: {completed.stderr[-2000:]}")
        results["command"] = {
            "seconds": round(seconds, 3),
            "rows_per_second": round(rows / seconds),
            "output": completed.stdout.strip(),
            "argv": " ".join(["python", *command[1:4], "<slug>", "<file>"]),
        }

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    worst = max(value["seconds"] for value in results.values())
    summary = {
        "scenario": "csv_import",
        "rows": rows,
        "bytes": len(data),
        "target": f"{rows:,} rows well under {TARGET_SECONDS:.0f} s",
        "met": worst < TARGET_SECONDS / 2,  # "well under a minute": under half of one
        "results": results,
        "machine": {
            "nproc": len(os.sched_getaffinity(0)),
            "python": sys.version.split()[0],
            "postgresql": postgres,
            # Other work on the machine slows every figure; the load says how busy it was.
            "loadavg_at_start": load_at_start,
            "loadavg_at_end": [round(value, 2) for value in os.getloadavg()],
        },
        "finished_at": datetime.now(tz=UTC).isoformat(),
    }
    return summary


if __name__ == "__main__":
    sys.exit(main())
