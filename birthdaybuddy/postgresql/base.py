"""Django's PostgreSQL backend, with a health check that asks the kernel before the server.

With ``CONN_HEALTH_CHECKS`` Django checks a persistent connection at the start of every
request by running ``SELECT 1``: a round trip to PostgreSQL, and on a warm cached read the
most expensive step after the request's own query. An idle connection has nothing to read,
so one that has something waiting is the interesting case: a server that restarted or
terminated the backend (``pg_terminate_backend``, ``idle_session_timeout``, a failover)
closes the socket or sends its last error, and the socket becomes readable. So:

- the socket of an idle connection has nothing to read: usable, without asking the server;
- it has (an error, end of file, or a harmless notice or notification): Django's own check
  runs ``SELECT 1``, which reads it, and decides;
- a connection psycopg already knows is closed or broken, or one not idle: Django's check.

A peer that vanished without closing anything (a cut cable) is not seen by either check
until TCP gives up; ``SELECT 1`` would hang on it rather than fail.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

_READ_EVENTS = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        if connection.info.transaction_status == TransactionStatus.IDLE and not self._socket_has_input(connection):
            return True
        return super().is_usable()

    @staticmethod
    def _socket_has_input(connection) -> bool:
        try:
            poller = select.poll()  # poll, not select: any descriptor number
            poller.register(connection.fileno(), _READ_EVENTS)
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True  # let the server round trip decide
