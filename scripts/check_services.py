"""Stops the test run early, with a clear message, when PostgreSQL or Redis is unreachable.

``BB_TEST_EMBEDDED=1`` skips the check (the suite then runs on SQLite and a file cache).
"""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "DATABASE_URL": ("postgres://postgres@127.0.0.1:5432/birthdaybuddy", 5432),
    "REDIS_URL": ("redis://127.0.0.1:6379/0", 6379),
}


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def main() -> int:
    if os.environ.get("BB_TEST_EMBEDDED") == "1":
        print("BB_TEST_EMBEDDED=1: testing on SQLite and a file cache.")
        return 0
    down = []
    for name, (default, port) in DEFAULTS.items():
        url = os.environ.get(name) or default
        if not reachable(url, port):
            down.append(f"  {name}={url}")
    if down:
        print("Cannot reach the services the tests use:", *down, sep="\n", file=sys.stderr)
        print(
            "Start PostgreSQL and Redis (or point DATABASE_URL / REDIS_URL at them), "
            "or run `BB_TEST_EMBEDDED=1 make test` for SQLite and a file cache.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
