"""The claim: due ``pending`` rows become ``sending`` under a token; then the send jobs are prepared."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F

from notifications import conf, ratelimit, threads, whatsapp
from notifications.delivery.common import (
    CLAIM_FIELDS,
    CLOCK_TOLERANCE,
    PERSON_FIELDS,
    WORKSPACE_FIELDS,
    Configs,
    Job,
    S,
)
from notifications.delivery.sql import Statements, sql_connection
from notifications.models import ChannelConfig, Notification
from notifications.providers import Message, PermanentError, Provider, provider_for
from notifications.providers.twilio import TwilioProvider
from notifications.queueing import enqueue_on_commit


def claim(ids: list, *, now: datetime, token: uuid.UUID) -> tuple[list[Notification], Configs]:
    """Moves the due ``pending`` notifications among ``ids`` to ``sending``; returns the ones we
    won (with their workspace and person) and the active channel configs they need.

    One id: a single conditional UPDATE. Several: the rows are first locked with
    ``FOR UPDATE SKIP LOCKED`` so two overlapping batches (a task and its re-queued copy)
    neither deadlock nor wait; rows another worker is claiming are simply not ours.
    On PostgreSQL this is one statement (``Statements``), elsewhere a few ORM queries.
    """
    db = sql_connection()
    if db is not None:
        return Statements.of(db).claim(db, ids, now=now, token=token)
    due = Notification.objects.filter(pk__in=ids, status=S.PENDING, next_attempt_at__lte=now + CLOCK_TOLERANCE)
    claim = {"status": S.SENDING, "attempts": F("attempts") + 1, "claim_token": token, "updated_at": now}
    if len(ids) == 1:
        count = due.update(**claim)
    else:
        with transaction.atomic():
            locked = list(due.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
            count = Notification.objects.filter(pk__in=locked).update(**claim) if locked else 0
    if not count:
        return [], {}
    claimed = list(
        Notification.objects.filter(pk__in=ids, claim_token=token)
        .select_related("workspace", "person")
        .only(
            *CLAIM_FIELDS,
            *(f"workspace__{name}" for name in WORKSPACE_FIELDS),
            *(f"person__{name}" for name in PERSON_FIELDS),
        )
        .order_by()
    )
    return claimed, configs_for(claimed)


def requeue_early(ids: list, *, now: datetime) -> int:
    """Queues again the ``pending`` ids whose time has not come yet; returns how many.

    Thread replies waiting for their parent are left alone: their parent's outcome queues them.
    """
    early = list(
        Notification.objects.filter(pk__in=ids, status=S.PENDING, next_attempt_at__gt=now + CLOCK_TOLERANCE)
        .exclude(next_attempt_at=threads.AWAITING_PARENT)
        .values_list("pk", "next_attempt_at")
    )
    for pk, next_attempt_at in early:
        enqueue_on_commit([pk], countdown=(next_attempt_at - now).total_seconds())
    return len(early)


def configs_for(notifications: list[Notification]) -> Configs:
    workspace_ids = {n.workspace_id for n in notifications}
    kinds = {n.channel for n in notifications}
    configs = ChannelConfig.objects.filter(workspace_id__in=workspace_ids, kind__in=kinds, active=True)
    return {(config.workspace_id, config.kind): config for config in configs}


def prepare(
    claimed: list[Notification], *, configs: Configs, token: uuid.UUID, now: datetime
) -> tuple[list[Job], Counter]:
    """Builds the send jobs; settles opted-out (skipped) and rate-limited (deferred) ones now.

    One provider per (workspace, channel): a batch of 200 messages to one webhook builds it once.
    """
    jobs: list[Job] = []
    providers: dict[tuple, Provider | PermanentError] = {}
    outcomes: Counter = Counter()
    limit_rates = conf.rate_limit_enabled()
    sessions = whatsapp.whatsapp_sessions_open(
        phones=[n.recipient for n in claimed if n.channel == "whatsapp"], now=now
    )
    parents = thread_parents(claimed)
    for notification in claimed:
        thread_ts = ""
        if notification.thread_parent_id:
            thread_ts_or_wait = reply_thread_ts(notification, parents, token=token, now=now)
            if thread_ts_or_wait is None:
                outcomes["awaiting_parent"] += 1
                continue
            thread_ts = thread_ts_or_wait
        person = notification.person
        if person is not None and notification.channel in (person.opted_out_channels or []):
            release(
                notification,
                token=token,
                now=now,
                status=S.SKIPPED,
                last_error=f"The person opted out of {notification.channel}.",
            )
            if threads.may_have_replies(notification):
                threads.thread_replies_release(parent_ids=[notification.pk], now=now)
            outcomes["skipped"] += 1
            continue
        key = (notification.workspace_id, notification.channel)
        provider = providers.get(key)
        if provider is None:
            try:
                provider = provider_for(
                    channel=notification.channel, config=configs.get(key), workspace=notification.workspace
                )
            except PermanentError as exc:
                provider = exc
            providers[key] = provider
        if isinstance(provider, PermanentError):
            jobs.append(Job(notification, None, None, started_at=now, error=provider, finished_at=now))
            continue
        if limit_rates and provider.rate_key and provider.rate_per_second and not notification.rate_reserved:
            wait = ratelimit.reserve(
                provider.rate_key, rate_per_second=provider.rate_per_second, max_wait=conf.rate_max_wait_seconds()
            )
            if wait:
                release(
                    notification,
                    token=token,
                    now=now,
                    status=S.PENDING,
                    next_attempt_at=now + timedelta(seconds=abs(wait)),
                    rate_reserved=wait > 0,
                )
                enqueue_on_commit([notification.pk], countdown=abs(wait))
                outcomes["deferred"] += 1
                continue
        message = Message(
            notification_id=str(notification.pk),
            channel=notification.channel,
            recipient=notification.recipient,
            body=notification.body,
            subject=notification.subject,
            workspace_name=notification.workspace.name,
            whatsapp_session_open=_whatsapp_session_open(provider, notification, sessions),
            calendar=notification.calendar if notification.channel == "email" else "",
            preferences_url=notification.preferences_url,
            rsvp_url=notification.rsvp_url,
            blocks=notification.blocks if notification.channel == "slack" else None,
            thread_ts=thread_ts,
            image_url=notification.image_url,
            image_alt=notification.image_alt,
        )
        jobs.append(Job(notification, provider, message, started_at=now))
    return jobs, outcomes


def thread_parents(claimed: list[Notification]) -> dict[str, dict]:
    """The parents of the claimed thread replies (one query, only when there are replies)."""
    keys = {n.thread_parent_id for n in claimed if n.thread_parent_id}
    if not keys:
        return {}
    rows = Notification.objects.filter(idempotency_key__in=keys).values(
        "idempotency_key", "status", "provider_message_id", "channel", "recipient", "last_error"
    )
    return {row["idempotency_key"]: dict(row) for row in rows}


def reply_thread_ts(notification: Notification, parents: dict, *, token: uuid.UUID, now: datetime) -> str | None:
    """The ``thread_ts`` to post a reply with ("" = a plain post), or ``None`` when its parent is
    still open: then the reply goes back to waiting (its parent's outcome releases it)."""
    parent = parents.get(notification.thread_parent_id)
    if parent is not None and parent["status"] not in threads.PARENT_SETTLED:
        release(notification, token=token, now=now, status=S.PENDING, next_attempt_at=threads.AWAITING_PARENT)
        return None
    if parent is not None and parent["status"] in threads.PARENT_SENT:
        same_place = parent["channel"] == notification.channel and parent["recipient"] == notification.recipient
        if same_place and parent["provider_message_id"]:
            return parent["provider_message_id"]
        note = "thread parent has no message ts (a webhook answers none); posted as a plain message"
    elif parent is None:
        note = "thread parent no longer exists; posted as a plain message"
    else:
        reason = (parent["last_error"] or "").split("\n")[0][:200]
        note = f"thread parent {parent['status']} ({reason}); posted as a plain message"
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(last_error=note)
    return ""


def _whatsapp_session_open(provider: Provider, notification: Notification, sessions: dict) -> bool:
    """Whether the recipient wrote to this WhatsApp sender within the session window (free-form allowed)."""
    if notification.channel != "whatsapp" or not isinstance(provider, TwilioProvider):
        return False
    return whatsapp.whatsapp_session_is_open(
        sessions.get(notification.recipient, ()),
        account_sid=provider.account_sid,
        from_number=provider.from_number,
        messaging_service_sid=provider.messaging_service_sid,
    )


def release(notification: Notification, *, token: uuid.UUID, now: datetime, status: str, **fields) -> None:
    """Ends a claim without a provider call: the claim's attempt is not counted."""
    Notification.objects.filter(pk=notification.pk, claim_token=token).update(
        status=status, attempts=F("attempts") - 1, claim_token=None, updated_at=now, **fields
    )


# --- PostgreSQL: the claim and the record of a success, one statement each -----------------
#
# The only raw SQL of delivery. It does what the ORM queries above and below do (they stay the
# reference, and what SQLite runs) in one round trip each and with far less Python per message:
# a data-modifying CTE (``WITH claimed AS (UPDATE … RETURNING …) SELECT …``), which SQLite lacks.
# Table and column names come from the models' ``_meta``. Values read back go through each
# field's own converters (``from_db_value``), so encrypted secrets decrypt exactly as in the ORM.
