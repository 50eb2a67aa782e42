"""Provider I/O: one send, and the worker process's event loop and thread pool for batches."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from functools import partial
from typing import cast

import aiohttp

from notifications import conf
from notifications.delivery.common import Job
from notifications.providers import DeliveryError, Message, OutcomeUnknown, Provider
from notifications.providers.slack import SlackWebhookProvider

logger = logging.getLogger("notifications.delivery")


def _sent(done: Callable[[Job], None], job: Job, _future: Future) -> None:
    done(job)


def send(job: Job, clock: Callable[[], datetime]) -> None:
    """Runs a prepared job's provider call (a job without an error has a provider and a message)."""
    provider, message = cast(Provider, job.provider), cast(Message, job.message)
    try:
        job.result = provider.send(message)
    except DeliveryError as exc:
        job.error = exc
    except Exception as exc:
        # A library failing in a way we did not foresee: it may have sent, so treat it as unknown.
        logger.exception("provider %s failed unexpectedly", provider.name)
        job.error = OutcomeUnknown(f"unexpected error: {type(exc).__name__}")
    job.finished_at = clock()


class WorkerIO:
    """The worker process's I/O for batches: one event loop on a thread of its own, and a thread pool.

    Slack webhooks are posted from the loop over one aiohttp keep-alive session per timeout;
    providers without an async client run in the pool. Both start a send at once and hand back
    a ``concurrent.futures.Future``, so the batch's own thread is free to record outcomes (and
    claim more) while sends are under way. Made on first use and again after a fork (a prefork
    child never uses its parent's loop, sockets or threads). The pool has a thread for every
    send a batch may have open, so a claimed message never waits for a thread.
    """

    def __init__(self):
        self.pid: int | None = None
        self.lock = threading.Lock()

    def _ensure(self) -> None:
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            self.loop = asyncio.new_event_loop()
            self.sessions: dict[float, aiohttp.ClientSession] = {}
            self.tasks: set[asyncio.Task] = set()
            self.executor = ThreadPoolExecutor(max_workers=conf.batch_in_flight(), thread_name_prefix="deliver")
            threading.Thread(target=self.loop.run_forever, name="deliver-io", daemon=True).start()
            self.pid = os.getpid()

    def start(self, jobs: list[Job], clock: Callable[[], datetime], done: Callable[[Job], None]) -> None:
        """Starts every job's send at once; ``done(job)`` is called (on an I/O thread) as each ends."""
        if not jobs:
            return
        self._ensure()
        posts = [job for job in jobs if isinstance(job.provider, SlackWebhookProvider)]
        if posts:
            asyncio.run_coroutine_threadsafe(self._post_all(posts, clock, done), self.loop)
        for job in jobs:
            if not isinstance(job.provider, SlackWebhookProvider):
                self.executor.submit(send, job, clock).add_done_callback(partial(_sent, done, job))

    async def _post_all(self, jobs: list[Job], clock: Callable[[], datetime], done: Callable[[Job], None]) -> None:
        for job in jobs:
            task = asyncio.create_task(self._post(job, clock))
            self.tasks.add(task)  # the loop keeps only weak references to its tasks
            task.add_done_callback(partial(self._posted, done, job))

    def _posted(self, done: Callable[[Job], None], job: Job, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        done(job)

    async def _session(self, timeout: float) -> aiohttp.ClientSession:
        session = self.sessions.get(timeout)
        if session is None or session.closed:
            # No connection limit: the batches' windows bound the posts open at once, and a post
            # must never wait for a free connection inside its own timeout (a wait would turn a
            # message that was never sent into an "outcome unknown").
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=timeout),
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=0),
                trust_env=False,
            )
            self.sessions[timeout] = session
        return session

    async def _post(self, job: Job, clock: Callable[[], datetime]) -> None:
        provider, message = cast(SlackWebhookProvider, job.provider), cast(Message, job.message)
        try:
            job.result = await provider.asend(message, session=await self._session(provider.timeout))
        except DeliveryError as exc:
            job.error = exc
        except Exception as exc:
            logger.exception("provider %s failed unexpectedly", provider.name)
            job.error = OutcomeUnknown(f"unexpected error: {type(exc).__name__}")
        job.finished_at = clock()

    async def _close_sessions(self) -> None:
        for session in self.sessions.values():
            if not session.closed:
                await session.close()
        self.sessions.clear()

    def close(self) -> None:
        """Closes the sessions at interpreter exit (a killed worker just drops its sockets)."""
        if self.pid != os.getpid():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close_sessions(), self.loop).result(timeout=5)


worker_io = WorkerIO()
atexit.register(worker_io.close)
