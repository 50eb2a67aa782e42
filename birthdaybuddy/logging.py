"""Request ids on every log line, and the optional per-start log file under ``LOG_DIR``."""

import contextvars
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so every formatter can use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def per_start_log_file(log_dir: str) -> str:
    """A new timestamped file for every start of a process, like ``birthdaybuddy-20260101T090000Z-1234.log``."""
    path = Path(log_dir)
    path.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return str(path / f"birthdaybuddy-{stamp}-{os.getpid()}.log")
