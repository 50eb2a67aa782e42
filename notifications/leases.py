"""Claim leases: a live worker says, in the cache, which claims it still holds.

A claim (``claim_token`` on ``sending`` rows) is held while its provider calls run and its
outcomes are written. The holder puts ``delivery-lease:<token>`` in the cache before it
claims and a keeper thread in each worker process renews every held lease every third of
``NOTIFICATIONS_CLAIM_LEASE_SECONDS``. A worker that dies (SIGKILL, OOM, a lost machine)
stops renewing, its leases lapse within one lease period, and the sweeper settles its rows.
A worker that is alive but waiting — on a slow provider, or on the database during an
outage with its outcomes in memory — keeps its leases, so the sweeper never takes a row it
still holds.

Leases live in the cache (Redis in production), not in the database, so that a database
outage, which stops both the holder's writes and the sweeper, cannot make a live holder look
dead the moment the database comes back. If the cache cannot be read the sweeper falls back
to the hard bound (``NOTIFICATIONS_SENDING_TIMEOUT_SECONDS``).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.core.cache import cache

from notifications import conf

logger = logging.getLogger(__name__)

KEY = "delivery-lease:{}"


def _key(token) -> str:
    return KEY.format(token)


def _lease_seconds() -> int:
    return max(1, math.ceil(conf.claim_lease().total_seconds()))


class _Keeper:
    """The tokens this process holds, renewed by one daemon thread (started on first use, per process)."""

    def __init__(self):
        self.pid: int | None = None
        self.held: Counter = Counter()
        self.lock = threading.Lock()
        self.wake = threading.Event()

    def _ensure_thread(self) -> None:
        if self.pid == os.getpid():
            return
        # A forked child inherits the parent's tokens but not its thread: start over.
        self.pid = os.getpid()
        self.held = Counter()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        threading.Thread(target=self._run, name="delivery-leases", daemon=True).start()

    def _run(self) -> None:
        while True:
            seconds = _lease_seconds()
            # Every third of a lease, and at once when a first lease is taken after an idle spell.
            self.wake.wait(timeout=seconds / 3)
            self.wake.clear()
            with self.lock:
                tokens = list(self.held)
            if not tokens:
                continue
            try:
                cache.set_many({_key(token): 1 for token in tokens}, timeout=seconds)
            except Exception as exc:  # the cache is down: the sweeper then waits for the hard bound
                logger.warning("could not renew %d delivery lease(s): %s", len(tokens), exc)

    def acquire(self, token: str) -> None:
        with self.lock:
            self._ensure_thread()
            if not self.held:
                self.wake.set()
            self.held[token] += 1

    def release(self, token: str) -> None:
        with self.lock:
            self.held[token] -= 1
            if self.held[token] <= 0:
                del self.held[token]


_keeper = _Keeper()


@contextmanager
def held(token) -> Iterator[None]:
    """Holds the lease of ``token`` for the duration of the block (renewed in the background).

    The lease is written before the block runs, so a claim made inside it is never unleased;
    it is left to expire afterwards (rows no longer ``sending`` are not looked up by lease).
    """
    token = str(token)
    _keeper.acquire(token)
    try:
        try:
            cache.set(_key(token), 1, timeout=_lease_seconds())
        except Exception as exc:
            logger.warning("could not write delivery lease %s: %s", token, exc)
        yield
    finally:
        _keeper.release(token)


def alive(tokens: Iterable) -> set[str]:
    """The tokens among ``tokens`` whose lease is live. Raises if the cache cannot be read."""
    keys = {_key(token): str(token) for token in tokens if token is not None}
    if not keys:
        return set()
    return {keys[key] for key in cache.get_many(list(keys))}
