"""``python -m bench.faults``: the Django-side commands, and the faults from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from bench.environment import log
from bench.faults import __doc__ as faults_doc
from bench.faults.commands import digests, load, setup_template
from bench.faults.common import FAULTS, TIMINGS, Workload
from bench.faults.counting import problems
from bench.faults.harness import Harness
from bench.faults.inflict import run_fault

# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=faults_doc.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    template = commands.add_parser("setup-template", help="(inside the harness) the template's workspaces")
    template.add_argument("--workspaces", type=int, required=True)
    template.add_argument("--slack-prefix", required=True)
    template.add_argument("--tick-seconds", type=int)
    template.add_argument("--sweep-seconds", type=int)
    loading = commands.add_parser("load", help="(inside the harness) write and queue the load")
    loading.add_argument("--slack", type=int, required=True)
    loading.add_argument("--emails", type=int, required=True)
    loading.add_argument("--tag", required=True)
    loading.add_argument("--hang", action="store_true")
    digest = commands.add_parser("digests", help="(inside the harness) digests falling due at --due")
    digest.add_argument("--workspaces", type=int, required=True)
    digest.add_argument("--emails", type=int, required=True)
    digest.add_argument("--due", type=int, required=True)
    digest.add_argument("--slack-prefix", required=True)
    run = commands.add_parser("run", help="run faults with a private harness and print their figures")
    run.add_argument("faults", nargs="*", default=list(FAULTS), help=", ".join(FAULTS))
    run.add_argument("--timing", choices=sorted(TIMINGS), default="short")
    run.add_argument("--slack", type=int, default=Workload.slack)
    run.add_argument("--emails", type=int, default=Workload.emails)
    run.add_argument("--trigger", type=float, default=Workload.trigger)
    run.add_argument("--slack-delay", type=float, default=Workload.slack_delay)
    run.add_argument("--wait", type=float, default=Workload.wait_seconds)
    run.add_argument("--pg-port", type=int, default=25434)
    run.add_argument("--redis-port", type=int, default=26381)
    run.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = parser.parse_args(argv)

    if args.command == "setup-template":
        result = setup_template(
            workspaces=args.workspaces,
            slack_prefix=args.slack_prefix,
            tick_seconds=args.tick_seconds,
            sweep_seconds=args.sweep_seconds,
        )
    elif args.command == "load":
        result = load(slack=args.slack, emails=args.emails, tag=args.tag, hang=args.hang)
    elif args.command == "digests":
        result = digests(workspaces=args.workspaces, emails=args.emails, due=args.due, slack_prefix=args.slack_prefix)
    else:
        timing = TIMINGS[args.timing]
        workload = Workload(
            slack=args.slack,
            emails=args.emails,
            slack_delay=args.slack_delay,
            trigger=args.trigger,
            wait_seconds=args.wait,
        )
        result = {"timing": asdict(timing), "workload": asdict(workload), "faults": {}}
        with Harness(
            pg_port=args.pg_port,
            redis_port=args.redis_port,
            timing=timing,
            template_workspaces=max(args.slack, 1),
            keep=args.keep,
        ) as harness:
            for kind in args.faults:
                figures = run_fault(harness, kind, workload)
                figures["problems"] = problems(figures, bound_seconds=timing.recovery_bound_seconds)
                log(f"faults: {kind}: {json.dumps(figures['problems'])}")
                result["faults"][kind] = figures
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
