"""Request ids on every log line, and the optional per-start log file under ``LOG_DIR``."""

import contextvars
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

NO_REQUEST = "-"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default=NO_REQUEST)
# The id of the last request this thread served. The development server writes its access
# line after the response has left the middleware (so ``request_id_var`` is reset by then);
# it serves one request at a time per thread, so that line belongs to this request.
last_request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("last_request_id", default=NO_REQUEST)

ACCESS_LOGGERS = frozenset({"django.server"})


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so every formatter can use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        if request_id == NO_REQUEST and record.name in ACCESS_LOGGERS:
            request_id = last_request_id_var.get()
        record.request_id = request_id
        return True


def per_start_log_file(log_dir: str) -> str:
    """A new timestamped file for every start of a process, like ``birthdaybuddy-20260101T090000Z-1234.log``."""
    path = Path(log_dir)
    path.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return str(path / f"birthdaybuddy-{stamp}-{os.getpid()}.log")
