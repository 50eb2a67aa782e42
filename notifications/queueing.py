"""Handing notification ids to Celery, always after the surrounding transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial

from django.db import transaction

from notifications import conf, tasks

logger = logging.getLogger(__name__)


def enqueue_on_commit(ids: Iterable, *, countdown: float | None = None, batch: bool = False) -> None:
    """Queues delivery of ``ids`` once the current transaction commits (at once outside one).

    Below ``NOTIFICATIONS_BATCH_THRESHOLD`` ids: one ``notifications.deliver`` task each;
    from it on: ``notifications.deliver_batch`` tasks of ``NOTIFICATIONS_BATCH_SIZE`` ids.
    A broker error is logged, not raised: the rows are committed as ``pending`` and the
    sweeper queues them again. ``batch``: batch tasks whatever the count (messages planned
    together for the same minute, such as greetings due in people's own zones).
    """
    id_list = [str(pk) for pk in ids]
    if not id_list:
        return
    if countdown is not None:
        countdown = max(0.0, min(float(countdown), conf.max_countdown_seconds()))
    transaction.on_commit(partial(dispatch, id_list, countdown=countdown, batch=batch), robust=True)


def dispatch(ids: list[str], *, countdown: float | None = None, batch: bool = False) -> None:
    options = {"countdown": countdown} if countdown else {}
    try:
        if batch or len(ids) >= conf.batch_threshold():
            size = conf.batch_size()
            for start in range(0, len(ids), size):
                chunk = ids[start : start + size]
                # Celery would repr every id for the message's header (and the worker's log line).
                tasks.deliver_batch.apply_async((chunk,), argsrepr=_ids_repr(chunk), **options)
        else:
            for pk in ids:
                tasks.deliver.apply_async((pk,), **options)
    except Exception:
        logger.exception("could not queue %d notification(s); the sweeper will pick them up", len(ids))


def _ids_repr(ids: list[str]) -> str:
    """A batch's arguments as the worker logs them: the first id and how many there are."""
    return f"[['{ids[0]}', … {len(ids)} ids]]" if len(ids) > 1 else repr([ids])
