"""``GET /api/v1/workspaces/{id}/birthdays/`` under gunicorn, warm cache, 16 concurrent clients.

gunicorn runs as docker-compose.yml's web service runs it (its command, the ``${VAR:-default}``
defaults filled in, the access log included; bound to loopback) — ``--api-workers``,
``--api-worker-class``, ``--api-threads`` and ``--api-keep-alive`` override one option each — and
serves the bench database and Redis cache. The load generator (``bench.loadgen``) runs in its own
process on loopback with JWT access tokens minted for members of sampled workspaces: wrk (C) where
it is installed, otherwise aiohttp (``--api-loadgen`` chooses); on a machine whose cores the server
shares with its clients, wrk leaves the server the CPU that clients on other hosts would. Its
warm-up pass requests every target once, so the measured requests are served from the per-workspace cache.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

from bench.context import BASE_DIR, Context, wait_until
from bench.environment import free_port, log
from bench.procs import Child, PostgresCpu, wait_for_port


def _targets(ctx: Context) -> list[list[str]]:
    from accounts.tokens import AccessToken
    from workspaces.models import Membership

    rng = random.Random(ctx.args.seed)
    workspace_ids = sorted(Membership.objects.values_list("workspace_id", flat=True).distinct())
    chosen = set(rng.sample(workspace_ids, min(ctx.args.api_workspaces, len(workspace_ids))))
    memberships = {}
    for membership in Membership.objects.filter(workspace_id__in=chosen).select_related("user").order_by("created_at"):
        memberships.setdefault(membership.workspace_id, []).append(membership)
    targets = []
    for workspace_id in sorted(memberships):
        membership = rng.choice(memberships[workspace_id])  # owners and plain members alike
        token = str(AccessToken.for_user(membership.user))
        targets.append([f"/api/v1/workspaces/{workspace_id}/birthdays/", token])
    return targets


def _queries_per_request(target: list[str]) -> dict:
    """SQL queries of one warm request, in process (the answer comes from the cache)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {target[1]}")
    client.get(target[0])  # warm
    with CaptureQueriesContext(connection) as queries:
        response = client.get(target[0])
    return {"status": response.status_code, "sql_queries": len(queries), "rows": response.json().get("count")}


_COMPOSE_DEFAULT = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}")


def compose_web_command(*, port: int, overrides: dict[str, object] | None = None, environ=os.environ) -> list[str]:
    """docker-compose.yml's web command as it would run: ``${VAR:-default}`` from ``environ`` or
    the default, bound to ``127.0.0.1:port``, each of ``overrides`` (``{"workers": 3}``) replacing
    that ``--name=value`` option (or added)."""
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    command = [
        _COMPOSE_DEFAULT.sub(lambda match: environ.get(match.group(1)) or match.group(2), str(part))
        for part in compose["services"]["web"]["command"]
    ]
    if command[0] != "gunicorn":
        raise RuntimeError(f"docker-compose.yml's web service does not run gunicorn: {command[:2]}")
    options = dict(part[2:].split("=", 1) for part in command[2:] if part.startswith("--") and "=" in part)
    options["bind"] = f"127.0.0.1:{port}"
    options.update({name.replace("_", "-"): str(value) for name, value in (overrides or {}).items()})
    rest = [part for part in command[2:] if not (part.startswith("--") and "=" in part)]
    return [command[1], *rest, *(f"--{name}={value}" for name, value in options.items())]


def _server_label(command: list[str]) -> str:
    options = dict(part[2:].split("=", 1) for part in command if part.startswith("--") and "=" in part)
    label = f"gunicorn -w {options.get('workers', '1')} --worker-class {options.get('worker-class', 'sync')}"
    if int(options.get("threads", "1")) > 1:
        label += f" --threads {options['threads']}"
    return label + " (docker-compose.yml's web command)"


def birthdays_api(ctx: Context) -> dict:
    args = ctx.args
    targets = _targets(ctx)
    targets_file = ctx.workdir / "api_targets.json"
    targets_file.write_text(json.dumps(targets))
    in_process = _queries_per_request(targets[0])
    port = free_port()
    overrides = {
        "workers": args.api_workers,
        "worker-class": args.api_worker_class,
        "threads": args.api_threads,
        "keep-alive": args.api_keep_alive,
        "graceful-timeout": 5,  # the bench stops it at once
    }
    command = compose_web_command(port=port, overrides={k: v for k, v in overrides.items() if v is not None})
    argv = [sys.executable, "-m", "gunicorn", *command]
    server = Child("gunicorn", argv, env=ctx.child_env(), log_path=ctx.workdir / "gunicorn.log", cwd=BASE_DIR)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, timeout=30, child=server)

        def live() -> bool:
            try:
                with urllib.request.urlopen(base + "/health/live", timeout=2) as response:  # noqa: S310 - loopback
                    return response.status == 200
            except (urllib.error.URLError, OSError):
                return False

        if not wait_until(live, timeout=30, interval=0.2):
            raise RuntimeError(f"gunicorn did not answer /health/live:\n{server.tail()}")
        log(f"gunicorn on {base}; {len(targets)} workspaces, {args.api_concurrency} clients")
        loadgen = [sys.executable, "-m", "bench.loadgen", "--base", base, "--targets", str(targets_file)]
        loadgen += ["--concurrency", str(args.api_concurrency), "--requests", str(args.api_requests)]
        tool = args.api_loadgen
        if tool == "auto":
            tool = "wrk" if shutil.which("wrk") else "aiohttp"
        loadgen += ["--seconds", str(args.api_seconds), "--tool", tool]
        with PostgresCpu() as postgres:
            server_cpu = server.cpu_seconds()
            started = time.perf_counter()
            completed = subprocess.run(
                loadgen,
                cwd=BASE_DIR,
                env=ctx.child_env(),
                capture_output=True,
                text=True,
                timeout=args.api_seconds + 300,
                check=False,
            )
            wall = time.perf_counter() - started
            server_cpu = server.cpu_seconds() - server_cpu
            postgres_cpu = postgres.seconds()
        if completed.returncode != 0:
            raise RuntimeError(f"load generator failed:\n{completed.stderr[-3000:]}")
        result = json.loads(completed.stdout)
        result.update(
            {
                "server": _server_label(command),
                "server_command": " ".join(["gunicorn", *command]),
                "path": "/api/v1/workspaces/{id}/birthdays/ (default ?days=30)",
                "in_process_warm_request": in_process,
                "cpu_seconds_incl_warmup": {
                    "gunicorn": round(server_cpu, 2),
                    "postgres_backends": postgres_cpu,
                    "loadgen_wall": round(wall, 2),
                },
            }
        )
        log(
            f"birthdays_api: {result['requests_per_second']} req/s, p95 {result['latency_ms']['p95']} ms, "
            f"statuses {result['statuses']}"
        )
        return result
    finally:
        server.stop()
