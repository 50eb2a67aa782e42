"""``GET /api/v1/workspaces/{id}/birthdays/`` under gunicorn, warm cache, 16 concurrent clients.

gunicorn (default ``-w 4 --threads 2``, gthread, as docker-compose.yml runs it; ``--api-worker-class
sync`` for one request per process and a connection per request, as behind a buffering proxy) serves the
bench database and Redis cache; the load generator (``bench.loadgen``, aiohttp) runs in its
own process on loopback with JWT access tokens minted for members of sampled workspaces. Its
warm-up pass requests every target once, so the measured requests are served from the per-workspace cache.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request

from bench.context import BASE_DIR, Context, wait_until
from bench.environment import free_port, log
from bench.procs import Child, PostgresCpu, wait_for_port


def _targets(ctx: Context) -> list[list[str]]:
    from rest_framework_simplejwt.tokens import AccessToken

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


def _server_label(args) -> str:
    if args.api_worker_class == "gthread":
        return f"gunicorn birthdaybuddy.wsgi -w {args.api_workers} --threads {args.api_threads} (gthread)"
    return f"gunicorn birthdaybuddy.wsgi -w {args.api_workers} ({args.api_worker_class})"


def birthdays_api(ctx: Context) -> dict:
    args = ctx.args
    targets = _targets(ctx)
    targets_file = ctx.workdir / "api_targets.json"
    targets_file.write_text(json.dumps(targets))
    in_process = _queries_per_request(targets[0])
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "birthdaybuddy.wsgi:application"]
    argv += ["--workers", str(args.api_workers), "--worker-class", args.api_worker_class]
    if args.api_worker_class == "gthread":
        argv += ["--threads", str(args.api_threads)]
    argv += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    argv += ["--keep-alive", "5", "--graceful-timeout", "5", "--timeout", "60"]
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
        loadgen += ["--seconds", str(args.api_seconds)]
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
                "server": _server_label(args),
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
