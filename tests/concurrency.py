"""Running calls at the same instant from several threads, each on its own database connection."""

import threading

from django.db import connection


def concurrently(*calls, timeout: float = 60) -> None:
    """Starts every call together (a barrier), waits for all, and fails with any exception raised."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not errors, errors
