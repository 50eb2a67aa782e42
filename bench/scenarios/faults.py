"""The ``--faults`` scenario set: delivery under each fault of issue 17, at the issue's size.

``python -m bench --faults`` (or ``--only faults_kill_main,…``) runs, with the harness of
``bench/faults/`` (a private PostgreSQL cluster, a private Redis, the real worker ``-c 4`` and
beat, fake Slack and SMTP): a no-fault baseline, then each fault, every one on a fresh copy of
the migrated database with 1,000 Slack digests + 200 emails queued as a tick queues them
(batches of 200). Nothing here needs the bench database or its data set.

Timing (``--fault-timing``): ``production`` (default) keeps the migrated beat intervals and the
engine's default settings, so recovery times are what a deployment would see; ``short`` uses
the tests' configuration (tick and sweep every 2 s, lease and pending grace 3 s).

Each scenario reports the harness's figures (``bench.faults.report``) and the promises it breaks
(``problems``); the target is met when there are none.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from bench import environment
from bench.environment import log
from bench.faults import FAULTS, TIMINGS, Harness, Workload, problems, run_fault

# Scenario name -> fault (the baseline runs the same workload with none).
FAULT_SCENARIOS = {("faults_baseline" if kind == "none" else f"faults_{kind}"): kind for kind in FAULTS}
FAULT_TARGET = (
    "0 lost, 0 left pending/sending, duplicates only of calls in flight at the fault (each marked on its "
    "row), none across a warm shutdown, delivering again within a minute, no process restart"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("faults (--faults)")
    group.add_argument("--faults", action="store_true", help="run the fault scenarios: " + ", ".join(FAULT_SCENARIOS))
    group.add_argument("--fault-slack", type=int, default=1_000, help="Slack digests per fault scenario")
    group.add_argument("--fault-emails", type=int, default=200, help="emails per fault scenario")
    group.add_argument("--fault-slack-delay", type=float, default=Workload.slack_delay, help="fake Slack answer delay")
    group.add_argument("--fault-trigger", type=float, default=Workload.trigger, help="share received at the fault")
    group.add_argument("--fault-timing", choices=sorted(TIMINGS), default="production")
    group.add_argument(
        "--fault-wait", type=float, default=300.0, help="longest wait, after a fault ends, for every row to settle"
    )
    group.add_argument("--fault-pg-port", type=int, default=25433)
    group.add_argument("--fault-redis-port", type=int, default=26380)


def _machine(harness: Harness) -> dict:
    import celery
    import django
    import redis

    with harness.pg.connect() as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    client = redis.Redis.from_url(harness.redis.url(0))
    redis_version = client.info("server").get("redis_version")
    client.close()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": environment._cpu_model(),
        "ram_gib": environment._ram_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "celery": celery.__version__,
        "postgresql": postgres,
        "redis": redis_version,
        "loadavg_at_start": environment.loadavg(),
    }


def run_fault_scenarios(args: argparse.Namespace, names: list[str], workdir: Path) -> tuple[dict, dict, dict]:
    """Runs the named fault scenarios with one harness; returns (machine, settings, results)."""
    timing = TIMINGS[args.fault_timing]
    workload = Workload(
        slack=args.fault_slack,
        emails=args.fault_emails,
        slack_delay=args.fault_slack_delay,
        trigger=args.fault_trigger,
        wait_seconds=args.fault_wait,
    )
    if "faults_broker_restart" in names and workload.total <= 4 * 200:
        log("faults: with 4 batches or fewer nothing waits in the broker when it restarts")
    results: dict = {}
    with Harness(
        pg_port=args.fault_pg_port,
        redis_port=args.fault_redis_port,
        timing=timing,
        template_workspaces=workload.slack,
        root=workdir / "faults",
        keep=True,
    ) as harness:
        machine = _machine(harness)
        for name in names:
            kind = FAULT_SCENARIOS[name]
            log(f"scenario {name}")
            before = environment.loadavg()
            started = time.perf_counter()
            try:
                result = run_fault(harness, kind, workload, label=name.replace("_", "-"))
                result["problems"] = problems(result, bound_seconds=timing.recovery_bound_seconds)
                log(f"{name}: {result['problems'] or 'no problem'}")
            except Exception as exc:
                traceback.print_exc()
                result = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            result["scenario_seconds"] = round(time.perf_counter() - started, 1)
            result["loadavg_before"] = before
            result["loadavg_after"] = environment.loadavg()
            results[name] = result
    settings = {"timing": asdict(timing), "workload": asdict(workload)}
    return machine, settings, results


def fault_targets(results: dict) -> dict:
    targets = {}
    for name, result in results.items():
        if "error" in result:
            targets[name] = {"target": FAULT_TARGET, "met": False, "error": result["error"]}
            continue
        targets[name] = {
            "target": FAULT_TARGET,
            "lost": result["lost"],
            "stuck": result["stuck"],
            "duplicates": result["duplicates"],
            "in_flight_at_fault": result["in_flight_at_fault"],
            "drain_seconds": result["drain_seconds"],
            "problems": result["problems"],
            "met": not result["problems"],
        }
    return targets
