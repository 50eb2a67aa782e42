"""What every scenario gets: the options, the environment, a directory for logs, shared helpers."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.environment import BROKER_DB, log
from bench.procs import Child, wait_for_port

BASE_DIR = Path(__file__).resolve().parent.parent


def percentile(values: list[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms_summary(seconds: list[float]) -> dict:
    values = [value * 1000 for value in seconds]
    return {
        "runs": len(values),
        "median_ms": round(percentile(values, 50), 3) if values else None,
        "p95_ms": round(percentile(values, 95), 3) if values else None,
        "min_ms": round(min(values), 3) if values else None,
        "max_ms": round(max(values), 3) if values else None,
    }


@dataclass
class Context:
    args: argparse.Namespace
    env: dict[str, str]
    workdir: Path
    dataset: dict
    fake_slack: Child | None = None
    results: dict = field(default_factory=dict)

    @property
    def slack_port(self) -> int:
        return self.args.slack_port

    def child_env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, **self.env, **extra}

    def broker(self):
        import redis

        return redis.Redis.from_url(f"{self.args.redis_url.rstrip('/')}/{BROKER_DB}")

    # --- fake Slack ---------------------------------------------------------------------------

    def ensure_fake_slack(self) -> Child:
        if self.fake_slack is None or not self.fake_slack.alive:
            self.fake_slack = Child(
                "fake-slack",
                [sys.executable, "-m", "bench.fake_slack", "--port", str(self.slack_port)],
                env=self.child_env(),
                log_path=self.workdir / "fake_slack.log",
                cwd=BASE_DIR,
            )
            wait_for_port(self.slack_port, timeout=15, child=self.fake_slack)
            log(f"fake Slack listening on 127.0.0.1:{self.slack_port}")
        return self.fake_slack

    def _slack_call(self, method: str, path: str) -> bytes:
        request = urllib.request.Request(f"http://127.0.0.1:{self.slack_port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback, fixed URL
            return response.read()

    def slack_reset(self) -> None:
        self._slack_call("POST", "/__reset")

    def slack_stats(self) -> dict:
        return json.loads(self._slack_call("GET", "/__stats"))


def wait_until(condition, *, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
