"""The batch window: many notifications, at most ``NOTIFICATIONS_BATCH_IN_FLIGHT`` claimed at a time."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial

from notifications import conf, leases
from notifications.delivery.claim import claim, prepare, requeue_early
from notifications.delivery.common import Job, clock_of, while_database_returns
from notifications.delivery.outcome import record
from notifications.delivery.sending import worker_io


def deliver_batch(*, notification_ids: Iterable, now: datetime | None = None) -> dict[str, int]:
    """Delivers many notifications concurrently, recording each outcome as it comes; returns counts.

    The batch holds at most ``NOTIFICATIONS_BATCH_IN_FLIGHT`` claimed rows at a time: it claims
    the next ids only as earlier ones are recorded, and every claimed row's provider call starts
    at once (nothing claimed waits in a queue). Finished sends are recorded in small groups
    (``NOTIFICATIONS_BATCH_RECORD_GROUP``, or after ``NOTIFICATIONS_BATCH_RECORD_DELAY_SECONDS``),
    each group in one statement. So a kill at any point leaves in ``sending`` only rows whose
    call was in flight (or had just finished), and a slow or hung provider delays only its own
    messages. During a database outage the outcomes wait in memory while the claim's lease is
    kept, and are written when the database is back.
    """
    return Batch(ids=notification_ids, clock=clock_of(now)).run()


class Batch:
    """One ``deliver_batch`` run: a window of claimed rows whose sends run on the worker's I/O."""

    def __init__(self, *, ids: Iterable, clock: Callable[[], datetime]):
        self.backlog = deque(dict.fromkeys(str(pk) for pk in ids))
        self.clock = clock
        self.token = uuid.uuid4()
        self.window = conf.batch_in_flight()
        self.delay = conf.batch_record_delay()
        self.finished = Finished(group=conf.batch_record_group())
        self.held = 0  # claimed and not yet recorded: sending, or finished and waiting for its group
        self.outcomes: Counter = Counter()
        self.deadline = time.monotonic() + conf.database_retry_seconds()

    def run(self) -> dict[str, int]:
        with leases.held(self.token):
            while self.backlog or self.held:
                room = self.window - self.held
                if self.backlog and room > 0 and (room >= min(self.finished.group, len(self.backlog)) or not self.held):
                    self._claim_more(room)
                    continue
                self._record_group(self.finished.take(timeout=self.delay))
        return dict(+self.outcomes)

    def _record_group(self, jobs: list[Job]) -> None:
        if jobs:
            record_group = partial(record, jobs, token=self.token)
            self.outcomes.update(while_database_returns(lambda: record_group(now=self.clock()), self.deadline))
            self.held -= len(jobs)

    def _claim_more(self, room: int) -> None:
        ids = [self.backlog.popleft() for _ in range(min(room, len(self.backlog)))]
        started = self.clock()
        claimed, configs = while_database_returns(lambda: claim(ids, now=started, token=self.token), self.deadline)
        if len(claimed) < len(ids):
            claimed_ids = {str(n.pk) for n in claimed}
            unclaimed = [pk for pk in ids if pk not in claimed_ids]
            not_due = requeue_early(unclaimed, now=started)
            self.outcomes.update({"not_due": not_due, "ignored": len(unclaimed) - not_due})
        if not claimed:
            return
        jobs, prepared = prepare(claimed, configs=configs, token=self.token, now=started)
        self.outcomes.update(prepared)
        self.held += len(jobs)
        self.finished.expect(len(jobs))
        # A job without a provider call (e.g. no channel configured) is recorded as it is.
        for job in jobs:
            if job.error is not None:
                self.finished.add(job)
        worker_io.start([job for job in jobs if job.error is None], self.clock, self.finished.add)


class Finished:
    """Sends that finished, handed from the I/O threads to the batch's thread in groups.

    The batch's thread sleeps until a group is full, everything it waits for has finished, or
    the record delay has passed — not once per message.
    """

    def __init__(self, *, group: int):
        self.group = group
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.jobs: list[Job] = []
        self.open = 0

    def expect(self, count: int) -> None:
        with self.lock:
            self.open += count

    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs.append(job)
            self.open -= 1
            if len(self.jobs) >= self.group or not self.open:
                self.ready.set()

    def take(self, *, timeout: float) -> list[Job]:
        self.ready.wait(timeout)
        with self.lock:
            jobs, self.jobs = self.jobs, []
            self.ready.clear()
        return jobs
