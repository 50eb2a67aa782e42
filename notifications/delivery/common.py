"""What every part of delivery shares: a send job, the clock, the fields read, database retries."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.utils import timezone

from notifications.models import ChannelConfig, DeliveryAttempt, Notification, NotificationStatus
from notifications.providers import DeliveryError, Message, Provider, SendResult, TransientError

logger = logging.getLogger("notifications.delivery")

CLOCK_TOLERANCE = timedelta(seconds=1)
# Channels where a possible duplicate is acceptable once; SMS/WhatsApp cost money per message.
RETRY_AFTER_UNKNOWN_CHANNELS = frozenset({"slack", "email", "teams", "gchat"})
# Ends that need a person: recorded in the workspace's audit log (replayable from there).
FINAL_FAILURES = frozenset({NotificationStatus.FAILED, NotificationStatus.UNKNOWN})
MAX_RETRY_AFTER_SECONDS = 3600.0

S = NotificationStatus
Outcome = DeliveryAttempt.Outcome
T = TypeVar("T")


@dataclass
class Job:
    notification: Notification
    provider: Provider | None
    message: Message | None
    started_at: datetime
    result: SendResult | None = None
    error: DeliveryError | None = None
    finished_at: datetime | None = None


def clock_of(now: datetime | None) -> Callable[[], datetime]:
    """A fixed clock when the caller passes ``now`` (tests, replays), the real one otherwise."""
    return (lambda: now) if now is not None else timezone.now


# What delivery reads of a claimed notification and its relations; nothing else is loaded.
CLAIM_FIELDS = (
    "id",
    "workspace",
    "person",
    "channel",
    "recipient",
    "subject",
    "body",
    "calendar",
    "preferences_url",
    "rsvp_url",
    "blocks",
    "thread_parent",
    "image_url",
    "image_alt",
    "status",
    "attempts",
    "retried_after_unknown",
    "rate_reserved",
    "claim_token",
)
WORKSPACE_FIELDS = ("id", "name", "sender_name", "sender_email")
PERSON_FIELDS = ("id", "opted_out_channels")

Configs = dict[tuple, ChannelConfig]


def while_database_returns(action: Callable[[], T], deadline: float) -> T:
    """Runs ``action``; while the database is unreachable, retries it with backoff until ``deadline``.

    Both the claim and the record are safe to run again: a claim takes only ``pending`` rows, and
    a record touches only rows still holding this claim's token (attempts insert ``ON CONFLICT
    DO NOTHING``). The broken connection is closed before each try, so the next one reconnects.
    Inside a transaction (a caller's, or a test's) nothing is retried.
    """
    pause = 0.2
    while True:
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            db = connections[DEFAULT_DB_ALIAS]
            if db.in_atomic_block or time.monotonic() + pause > deadline:
                raise
            logger.warning("database unavailable during delivery (%s); trying again in %.1f s", exc, pause)
            db.close()
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def attempt_values(job: Job, now: datetime) -> dict:
    """The ``DeliveryAttempt`` of this job, by attribute name."""
    error = job.error
    if job.result is not None:
        outcome, status_code, text = Outcome.SUCCESS, job.result.status_code, ""
    else:
        outcome = {
            "transient": Outcome.TRANSIENT,
            "permanent": Outcome.PERMANENT,
            "unknown": Outcome.UNKNOWN,
        }.get(getattr(error, "outcome", ""), Outcome.PERMANENT)
        status_code, text = getattr(error, "status_code", None), getattr(error, "reason", "")
        if isinstance(error, TransientError) and error.retry_after is not None:
            text = f"{text} (Retry-After {error.retry_after:g}s)"
    return {
        "notification_id": job.notification.pk,
        "number": max(1, job.notification.attempts),
        "started_at": job.started_at,
        "finished_at": job.finished_at or now,
        "outcome": outcome,
        "status_code": status_code if status_code is not None and 0 <= status_code < 32768 else None,
        "error": text,
        "provider_message_id": job.result.provider_message_id if job.result is not None else "",
    }
