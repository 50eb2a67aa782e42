"""An HTTP load generator: ``python -m bench.loadgen --base URL --targets FILE ...``; prints JSON.

``--targets`` is a JSON list of ``[path, bearer token]``. A warm-up pass requests each
target once (so every cached answer exists), then ``--concurrency`` clients send requests
over keep-alive connections until ``--requests`` are done or ``--seconds`` have passed.
Loopback only; run in its own process so its CPU is not the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter
from urllib.parse import urlsplit

import aiohttp


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (like numpy's default)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


async def run(*, base: str, targets: list, concurrency: int, requests: int, seconds: float) -> dict:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    statuses: Counter = Counter()
    latencies: list[float] = []
    sizes: list[int] = []
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def fetch(path: str, token: str) -> tuple[int, float, int]:
            started = time.perf_counter()
            async with session.get(base + path, headers={"Authorization": f"Bearer {token}"}) as response:
                body = await response.read()
            return response.status, time.perf_counter() - started, len(body)

        warm_statuses: Counter = Counter()
        semaphore = asyncio.Semaphore(concurrency)

        async def warm(path: str, token: str) -> None:
            async with semaphore:
                status, _, _ = await fetch(path, token)
                warm_statuses[status] += 1

        warm_started = time.perf_counter()
        await asyncio.gather(*(warm(path, token) for path, token in targets))
        warm_seconds = time.perf_counter() - warm_started

        counter = itertools.count()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def client() -> None:
            while loop.time() < deadline:
                n = next(counter)
                if n >= requests:
                    return
                path, token = targets[n % len(targets)]
                status, elapsed, size = await fetch(path, token)
                statuses[status] += 1
                latencies.append(elapsed)
                sizes.append(size)

        cpu_started = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started

    latencies.sort()
    ms = [value * 1000 for value in latencies]
    return {
        "targets": len(targets),
        "warmup": {"requests": len(targets), "seconds": round(warm_seconds, 2), "statuses": dict(warm_statuses)},
        "concurrency": concurrency,
        "requests": len(latencies),
        "seconds": round(wall, 2),
        "requests_per_second": round(len(latencies) / wall, 1) if wall else None,
        "statuses": {str(key): value for key, value in statuses.items()},
        "latency_ms": {
            "p50": round(percentile(ms, 50), 2) if ms else None,
            "p95": round(percentile(ms, 95), 2) if ms else None,
            "p99": round(percentile(ms, 99), 2) if ms else None,
            "max": round(ms[-1], 2) if ms else None,
            "mean": round(sum(ms) / len(ms), 2) if ms else None,
        },
        "mean_response_bytes": round(sum(sizes) / len(sizes)) if sizes else None,
        "client_cpu_seconds": round(cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8123")
    parser.add_argument("--targets", required=True, help="JSON file: [[path, token], ...]")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    if urlsplit(args.base).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the load generator only targets loopback")
    with open(args.targets, encoding="utf-8") as handle:
        targets = json.load(handle)
    result = asyncio.run(
        run(
            base=args.base.rstrip("/"),
            targets=targets,
            concurrency=args.concurrency,
            requests=args.requests,
            seconds=args.seconds,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
