"""An HTTP load generator: ``python -m bench.loadgen --base URL --targets FILE ...``; prints JSON.

``--targets`` is a JSON list of ``[path, bearer token]``. A warm-up pass requests each
target once (so every cached answer exists), then ``--concurrency`` clients send requests
over keep-alive connections until ``--requests`` are done or ``--seconds`` have passed.
Loopback only; run in its own process so its CPU is not the server's.

``--tool aiohttp`` (default) sends the measured requests from Python; ``--tool wrk`` hands
them to wrk (C, one thread, a Lua script cycling through the targets), which costs the
shared cores about a tenth of the CPU per request, so the server gets what the clients
would leave it on another host. wrk runs for ``--seconds`` (it has no request count).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import shutil
import subprocess
import tempfile
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


def _session(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))


async def _fetch(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, float, int]:
    started = time.perf_counter()
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        body = await response.read()
    return response.status, time.perf_counter() - started, len(body)


async def warm_up(*, base: str, targets: list, concurrency: int) -> dict:
    """Request every target once, ``concurrency`` at a time."""
    statuses: Counter = Counter()
    semaphore = asyncio.Semaphore(concurrency)
    async with _session(concurrency) as session:

        async def warm(path: str, token: str) -> None:
            async with semaphore:
                status, _, _ = await _fetch(session, base + path, token)
                statuses[status] += 1

        started = time.perf_counter()
        await asyncio.gather(*(warm(path, token) for path, token in targets))
    return {
        "requests": len(targets),
        "seconds": round(time.perf_counter() - started, 2),
        "statuses": {str(key): value for key, value in statuses.items()},
    }


def _summary(*, wall: float, requests: int, statuses: dict) -> dict:
    """The counts both tools report alike."""
    return {
        "requests": requests,
        "seconds": round(wall, 2),
        "requests_per_second": round(requests / wall, 1) if wall else None,
        "statuses": {str(key): value for key, value in statuses.items() if value},
    }


async def run(*, base: str, targets: list, concurrency: int, requests: int, seconds: float) -> dict:
    warmup = await warm_up(base=base, targets=targets, concurrency=concurrency)
    statuses: Counter = Counter()
    latencies: list[float] = []
    sizes: list[int] = []
    async with _session(concurrency) as session:
        counter = itertools.count()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def client() -> None:
            while loop.time() < deadline:
                n = next(counter)
                if n >= requests:
                    return
                path, token = targets[n % len(targets)]
                status, elapsed, size = await _fetch(session, base + path, token)
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
        "tool": "aiohttp",
        "targets": len(targets),
        "warmup": warmup,
        "concurrency": concurrency,
        **_summary(wall=wall, requests=len(latencies), statuses=statuses),
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


# Cycles through the targets (a Lua table written beside it); prints one JSON line at the end.
_WRK_SCRIPT = """
local targets = dofile(os.getenv("BENCH_WRK_TARGETS"))
local n = 0
request = function()
  n = n + 1
  local target = targets[(n % #targets) + 1]
  return wrk.format("GET", target[1], {["Authorization"] = "Bearer " .. target[2]})
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx_3xx": %d, "connect_errors": %d, '
    .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "mean_us": %f}\\n',
    summary.requests, summary.duration, summary.bytes, errors.status, errors.connect, errors.read,
    errors.write, errors.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_wrk(*, base: str, targets: list, concurrency: int, seconds: float) -> dict:
    """The measured requests from wrk (after the same warm-up), its figures in the aiohttp run's shape."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("--tool wrk needs wrk on PATH (Debian: apt-get install wrk)")
    warmup = asyncio.run(warm_up(base=base, targets=targets, concurrency=concurrency))
    with tempfile.TemporaryDirectory(prefix="bb-wrk-") as workdir:
        script = f"{workdir}/targets.lua"
        with open(script, "w", encoding="utf-8") as handle:
            rows = ",\n".join(f"{{{_lua_string(path)}, {_lua_string(token)}}}" for path, token in targets)
            handle.write(f"return {{\n{rows}\n}}\n")
        with open(f"{workdir}/cycle.lua", "w", encoding="utf-8") as handle:
            handle.write(_WRK_SCRIPT)
        argv = [wrk, "--threads", "1", "--connections", str(concurrency), "--duration", f"{max(1, round(seconds))}s"]
        argv += ["--timeout", "30s", "--script", f"{workdir}/cycle.lua", base + targets[0][0]]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(argv, capture_output=True, text=True, check=False, env={"BENCH_WRK_TARGETS": script})
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    wall = figures["duration_us"] / 1e6
    errors = {
        key: figures[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts") if figures[key]
    }
    requests = figures["requests"]
    statuses = {"2xx/3xx": requests - figures["non_2xx_3xx"], "other": figures["non_2xx_3xx"]}
    return {
        "tool": "wrk (1 thread)",
        "targets": len(targets),
        "warmup": warmup,
        "concurrency": concurrency,
        **_summary(wall=wall, requests=requests, statuses=statuses),
        "socket_errors": errors,
        "latency_ms": {name: round(figures[f"{name}_us"] / 1000, 2) for name in ("p50", "p95", "p99", "max", "mean")},
        "mean_response_bytes": round(figures["bytes"] / requests) if requests else None,
        "client_cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="e.g. http://127.0.0.1:8123")
    parser.add_argument("--targets", required=True, help="JSON file: [[path, token], ...]")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--tool", choices=("aiohttp", "wrk"), default="aiohttp")
    args = parser.parse_args()
    if urlsplit(args.base).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the load generator only targets loopback")
    with open(args.targets, encoding="utf-8") as handle:
        targets = json.load(handle)
    base = args.base.rstrip("/")
    if args.tool == "wrk":
        result = run_wrk(base=base, targets=targets, concurrency=args.concurrency, seconds=args.seconds)
    else:
        result = asyncio.run(
            run(base=base, targets=targets, concurrency=args.concurrency, requests=args.requests, seconds=args.seconds)
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
