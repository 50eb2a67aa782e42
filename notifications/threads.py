"""Replies in the thread of another notification: "post this under that message".

A reply is an ordinary notification with ``thread_parent`` naming its parent by idempotency
key. It cannot be posted before Slack has answered the parent with its ``ts`` (stored as the
parent's ``provider_message_id``), so it is written **waiting**: ``pending`` with
``next_attempt_at`` at :data:`AWAITING_PARENT`, a time that never comes. Nothing claims,
sweeps or re-queues a waiting row — no polling while the parent is on its way.

The parent's outcome releases its replies (``next_attempt_at`` = now, queued after commit):

| parent ends | the replies |
|---|---|
| ``sent``/``delivered`` with a ``ts`` | posted with ``thread_ts`` = the parent's ``ts`` |
| ``sent`` without a ``ts`` (a webhook answers none) | posted as plain messages |
| ``failed``, ``unknown``, ``skipped`` | posted as plain messages, the reason noted in ``last_error`` |

Plain posts rather than failures: each reply is a whole message (a celebration, a wish), so
it still reaches the channel when its thread cannot exist; nothing is silently lost, and the
row says why it is not threaded. Delivery re-checks the parent when it claims a reply (a reply
whose parent is still open goes back to waiting), and the sweeper releases waiting replies
whose parent is settled, should a release ever be lost (a worker killed between the parent's
record and the release).

Idempotency: a reply's key is its own (its purpose names what it is, e.g. ``digest-reply-…``),
written with ``notifications_write`` like any message; a rerun writes nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import transaction

from notifications.models import Notification, NotificationStatus
from notifications.queueing import enqueue_on_commit

S = NotificationStatus

#: ``next_attempt_at`` of a reply waiting for its parent: never due, never swept.
AWAITING_PARENT = datetime(2999, 1, 1, tzinfo=UTC)
#: A parent in one of these is settled: its replies can go.
PARENT_SETTLED = frozenset({S.SENT, S.DELIVERED, S.FAILED, S.UNKNOWN, S.SKIPPED})
PARENT_SENT = frozenset({S.SENT, S.DELIVERED})


def thread_reply(*, parent: Notification | str, reply: Notification) -> Notification:
    """Marks the unsaved ``reply`` as a reply in ``parent``'s thread (a notification or its
    idempotency key), waiting for it. For planners that write parent and replies together."""
    reply.thread_parent_id = parent if isinstance(parent, str) else parent.idempotency_key
    reply.next_attempt_at = AWAITING_PARENT
    return reply


@transaction.atomic
def thread_replies_write(*, parent: Notification | str, replies: list[Notification]) -> list[uuid.UUID]:
    """Writes ``replies`` (unsaved notifications with their own idempotency keys) in the thread of
    ``parent`` — a notification or its idempotency key — and returns the ids inserted.

    The parent must exist (written earlier or in the same transaction; else ``ValueError``). If it
    is settled already, the new replies are queued at once (after commit); otherwise they wait
    for its outcome.
    Keys already written are skipped, as with ``notifications_write``.
    """
    # Delivery imports this module and the services import delivery: the write is imported here.
    from notifications.services import notifications_write

    key = parent if isinstance(parent, str) else parent.idempotency_key
    # Locked until commit: a parent recorded meanwhile waits for these replies to exist, and its
    # release (a later statement) then finds them; a parent already settled is released here.
    found = Notification.objects.select_for_update().filter(idempotency_key=key).values_list("status", flat=True)
    status = found.first()
    if status is None:
        raise ValueError(f"No notification {key!r} to reply to: write the parent first.")
    for reply in replies:
        thread_reply(parent=key, reply=reply)
    inserted = notifications_write(notifications=replies)
    if inserted and status in PARENT_SETTLED:
        thread_replies_release(parent_keys=[key])
    return inserted


def thread_replies_release(
    *, parent_keys: Iterable[str] = (), parent_ids: Iterable = (), now: datetime | None = None
) -> list[uuid.UUID]:
    """Makes the waiting replies of these settled parents (by idempotency key or by id) due now
    and queues them after commit; returns their ids."""
    keys, ids = list(parent_keys), list(parent_ids)
    if not keys and not ids:
        return []
    waiting = Notification.objects.filter(status=S.PENDING, next_attempt_at=AWAITING_PARENT)
    if keys:
        waiting = waiting.filter(thread_parent__idempotency_key__in=keys)
    else:
        waiting = waiting.filter(thread_parent__pk__in=ids)
    return _release(list(waiting.values_list("pk", flat=True)), now=now or datetime.now(tz=UTC))


def _release(ids: list, *, now: datetime) -> list:
    if ids:
        Notification.objects.filter(pk__in=ids, next_attempt_at=AWAITING_PARENT).update(next_attempt_at=now)
        enqueue_on_commit(ids)
    return ids


def thread_replies_release_settled(*, now: datetime, limit: int) -> list[uuid.UUID]:
    """The sweeper's safety net: releases waiting replies whose parent is settled or gone."""
    waiting = Notification.objects.filter(status=S.PENDING, next_attempt_at=AWAITING_PARENT)
    orphans = waiting.filter(thread_parent__isnull=True) | waiting.filter(thread_parent__status__in=PARENT_SETTLED)
    return _release(list(orphans.values_list("pk", flat=True)[:limit]), now=now)


def may_have_replies(notification: Notification) -> bool:
    """Only a Slack message posted with the bot can have a thread (a webhook learns no ``ts``),
    and a reply starts none (Slack's threads are one level deep), so delivery looks for waiting
    replies of those alone."""
    return notification.channel == "slack" and notification.recipient != "webhook" and not notification.thread_parent_id
