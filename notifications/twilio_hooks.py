"""Twilio's side of the conversation: delivery receipts and inbound messages (STOP/START).

Twilio calls us back in two ways, both form-encoded and signed with the account's auth
token (``X-Twilio-Signature``, checked with the twilio library's ``RequestValidator``):

- **status callbacks** (``POST /api/v1/hooks/twilio/status``): a message's progress
  (``queued → sent → delivered`` or ``undelivered``/``failed``) moves its notification
  forward — never back: a ``delivered`` row stays delivered whatever arrives later.
- **inbound messages** (``POST /api/v1/hooks/twilio/inbound``): STOP/START keywords change
  the sender's opt-outs, and every message opens WhatsApp's 24-hour session window.

**Whose request is it?** Each SMS/WhatsApp channel has its own hook URLs, carrying its id
(``/api/v1/hooks/twilio/channels/<channel id>/status`` and ``…/inbound``): the request is
checked against that one channel's auth token (or the platform's ``TWILIO_AUTH_TOKEN`` for a
channel without an account of its own) and may touch only that channel's workspace. What
other tenants configure — even channels naming the same Account SID or number — changes
nothing. The shared status URL of earlier releases still works: the notification it names
(``?n=`` or the message SID) names the one channel whose token is checked. The shared
inbound URL works for the platform's own account only (``TWILIO_ACCOUNT_SID``, checked with
the platform's token, for the channels that send with it); for a tenant's account it cannot
tell whose number it is without trying every tenant's token, so it answers 410 and points
to the channel's own URL.

**Replays**: a signature has no timestamp, so a captured request stays valid. Each
``MessageSid`` is recorded (:class:`~notifications.models.TwilioCallback`): an inbound
message acts once, a status only when it ranks above the last one applied.

The signature checks are ``twilio_signatures.py``; the WhatsApp window ``whatsapp.py``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.entries import audit_notification_failed
from notifications.models import InboundContact, Notification, NotificationStatus, TwilioCallback
from notifications.providers.base import truncate
from notifications.twilio_signatures import TWILIO_CHANNELS, TwilioScope
from workspaces.models import Channel
from workspaces.opt_outs import people_channel_opt_out_set

logger = logging.getLogger(__name__)

S = NotificationStatus

# Twilio's default keywords (Advanced Opt-Out; the whole message, any case). Twilio itself blocks
# a number that sent an opt-out word, so each must be recorded here too, or later sends fail with
# 21610 instead of being skipped. HELP changes nothing: Twilio answers it.
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
OPT_KEYWORDS = frozenset({"stop", "start"})  # the results that change a person's opt-outs

DELIVERED_STATUSES = frozenset({"delivered", "read"})
FAILED_STATUSES = frozenset({"undelivered", "failed", "canceled"})
PROGRESS_STATUSES = frozenset({"accepted", "scheduled", "queued", "sending", "sent"})
# A message's statuses in the order Twilio reports them; a callback ranking at or below the
# last one applied for its SID is a replay or arrived late, and changes nothing.
STATUS_RANK = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,
}
# Rows a receipt may still move: a worker may not have recorded the send yet (``sending``),
# or it timed out not knowing whether Twilio took the message (``unknown``).
OPEN_STATUSES = (S.SENDING, S.SENT, S.UNKNOWN)

# Delivery error codes of status callbacks (https://www.twilio.com/docs/api/errors), by name.
DELIVERY_ERROR_CODES = {
    21610: "recipient_unsubscribed",
    21614: "not_a_mobile_number",
    30003: "unreachable_handset",
    30004: "message_blocked",
    30005: "unknown_handset",
    30006: "landline_or_unreachable_carrier",
    30007: "carrier_filtered",
    30008: "unknown_error",
    63016: "outside_whatsapp_session_window",
    63024: "invalid_whatsapp_recipient",
}


def _first_time(message_sid: str, *, kind: str, status: str = "", now: datetime) -> bool:
    """Records ``message_sid`` (and ``status``); ``False`` when it changes nothing we know already.

    Inbound: ``False`` if the SID was seen before. Status: ``False`` unless ``status`` ranks
    above the last status recorded for the SID. Runs in the caller's transaction (row lock).
    """
    rank = STATUS_RANK.get(status, 0)
    record, created = TwilioCallback.objects.select_for_update().get_or_create(
        message_sid=message_sid,
        defaults={"kind": kind, "status": status, "rank": rank, "created_at": now, "updated_at": now},
    )
    if created:
        return True
    if kind == TwilioCallback.Kind.INBOUND or record.kind != kind or rank <= record.rank:
        return False
    record.status, record.rank, record.updated_at = status, rank, now
    record.save(update_fields=["status", "rank", "updated_at"])
    return True


# --- status callbacks -------------------------------------------------------------------------


def _delivery_error(status: str, code: str, message: str) -> str:
    """``last_error`` of an undelivered message, led by a stable reason (what the stats group by)."""
    message = " ".join((message or "").split())
    try:
        number = int(code)
    except (TypeError, ValueError):
        number = None
    detail = f"twilio {number}: {message}" if message else f"twilio {number}"
    if number in DELIVERY_ERROR_CODES:
        return truncate(f"{DELIVERY_ERROR_CODES[number]} ({detail}; {status})", 500)
    if number is not None:
        return truncate(f"{detail} ({status})", 500)
    return truncate(f"{status} (no error code{': ' + message if message else ''})", 500)


def _notification_for(*, scope: TwilioScope, message_sid: str, notification_hint: str):
    """The notification a receipt is about: by message SID, else by the ``?n=`` id of our
    StatusCallback URL (a receipt faster than the worker that records the SID)."""
    rows = Notification.objects.filter(workspace_id__in=scope.workspace_ids, channel__in=TWILIO_CHANNELS)
    found = rows.filter(provider_message_id=message_sid).values_list("pk", flat=True).first()
    if found is None and notification_hint:
        try:
            hinted = uuid.UUID(notification_hint)
        except ValueError:
            return None
        found = (
            rows.filter(pk=hinted)
            .filter(Q(provider_message_id="") | Q(provider_message_id=message_sid))
            .values_list("pk", flat=True)
            .first()
        )
    return found


@transaction.atomic
def twilio_status_apply(*, scope: TwilioScope, params, notification_hint: str = "", now: datetime | None = None) -> str:
    """Applies one status callback; returns what happened (for logs and tests).

    ``delivered``/``read`` → ``delivered`` (+ ``delivered_at``); ``undelivered``/``failed``/
    ``canceled`` → ``failed`` with the error code in ``last_error``; ``queued``/``sent`` …
    move only an ``unknown`` row (the send timed out, but Twilio had it) to ``sent``. Each is
    one conditional UPDATE from an open status, so nothing leaves ``delivered``; a status
    that does not rank above the last one applied for its SID (a replay, a late receipt) is
    ``"unchanged"`` before anything is read. An unknown SID is logged and ignored.
    """
    now = now or timezone.now()
    message_sid = str(params.get("MessageSid") or params.get("SmsSid") or "")
    status = str(params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not message_sid or not status:
        logger.info("twilio status callback without MessageSid/MessageStatus: ignored")
        return "ignored"
    pk = _notification_for(scope=scope, message_sid=message_sid, notification_hint=notification_hint)
    if pk is None:
        logger.info("twilio status callback for unknown message %s (%s): ignored", message_sid, status)
        return "unknown_sid"
    if status in STATUS_RANK and not _first_time(message_sid, kind=TwilioCallback.Kind.STATUS, status=status, now=now):
        logger.info("twilio status %r for message %s repeats or comes after a later one: ignored", status, message_sid)
        return "unchanged"
    row = Notification.objects.filter(pk=pk)
    common = {"provider_message_id": message_sid, "updated_at": now}
    if status in DELIVERED_STATUSES:
        updated = row.filter(status__in=OPEN_STATUSES).update(
            status=S.DELIVERED,
            delivered_at=now,
            sent_at=Coalesce("sent_at", Value(now)),
            **common,
        )
        result = "delivered"
    elif status in FAILED_STATUSES:
        error = _delivery_error(status, params.get("ErrorCode"), params.get("ErrorMessage"))
        updated = row.filter(status__in=OPEN_STATUSES).update(status=S.FAILED, last_error=error, **common)
        if updated:
            audit_notification_failed(
                notification=row.only("id", "workspace_id", "channel").get(), status=S.FAILED, reason=error
            )
        result = "failed"
    elif status in PROGRESS_STATUSES:
        updated = row.filter(status=S.UNKNOWN).update(status=S.SENT, sent_at=Coalesce("sent_at", Value(now)), **common)
        result = "sent"
    else:
        logger.info("twilio status %r for message %s: nothing to do", status, message_sid)
        return "ignored"
    if not updated:
        return "unchanged"
    logger.info("notification %s: twilio says %s (%s)", pk, status, message_sid)
    return result


# --- inbound messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundResult:
    channel: str
    keyword: str  # "stop", "start", "help" or ""
    workspaces: int  # workspaces whose sender received it
    people: int  # people whose opt-outs changed


def _address(value: str) -> tuple[str, str]:
    """("whatsapp", "+1415…") for "whatsapp:+1415…", ("sms", "+1415…") for a bare number."""
    value = (value or "").strip()
    if value.lower().startswith("whatsapp:"):
        return Channel.WHATSAPP, value.split(":", 1)[1].strip()
    return Channel.SMS, value


def inbound_keyword(params) -> str:
    """``stop``/``start``/``help`` for Twilio's opt-out/opt-in/help keywords (or its ``OptOutType``), else ``""``.

    ``OptOutType`` (sent with Advanced Opt-Out, which may have custom keywords) wins over the text.
    """
    opt_out_type = str(params.get("OptOutType") or "").upper()
    if opt_out_type in {"STOP", "START", "HELP"}:
        return opt_out_type.lower()
    word = " ".join(str(params.get("Body") or "").split()).upper().rstrip(".!")
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    if word in HELP_KEYWORDS:
        return "help"
    return ""


def _receiving_workspaces(*, scope: TwilioScope, channel: str, to_number: str, messaging_service_sid: str) -> set:
    """Workspaces whose ``channel`` (among the scope's) sends from ``to_number`` or the messaging service."""
    match = Q(from_number=to_number) if to_number else Q(pk__in=[])
    if messaging_service_sid:
        match |= Q(messaging_service_sid=messaging_service_sid)
    return set(scope.channels.filter(kind=channel).filter(match).values_list("workspace_id", flat=True))


@transaction.atomic
def twilio_inbound_apply(*, scope: TwilioScope, params, now: datetime | None = None) -> InboundResult:
    """Records an inbound SMS/WhatsApp message and applies STOP/START keywords.

    Scope: the workspaces (among those the signing token may touch) whose channel of this
    kind sends from the number the message was sent to (``To``), or through the messaging
    service it came in on (``MessagingServiceSid``) — the same scope in which Twilio itself
    blocks a number after STOP. In each, every person with the sender's phone gets the
    channel added to (STOP) or removed from (START) ``opted_out_channels``; STOP also drops
    it from ``preferred_channels``. Every message moves the sender's WhatsApp session window
    (``InboundContact``). Nothing is recorded for a number no workspace sends from.
    """
    now = now or timezone.now()
    channel, phone = _address(params.get("From"))
    _, to_number = _address(params.get("To"))
    messaging_service_sid = str(params.get("MessagingServiceSid") or "")
    keyword = inbound_keyword(params)
    message_sid = str(params.get("MessageSid") or params.get("SmsMessageSid") or "")
    if message_sid and not _first_time(message_sid, kind=TwilioCallback.Kind.INBOUND, now=now):
        logger.info("inbound %s message %s seen before (a replay): ignored", channel, message_sid)
        return InboundResult(channel=channel, keyword=keyword, workspaces=0, people=0)
    workspace_ids = _receiving_workspaces(
        scope=scope, channel=channel, to_number=to_number, messaging_service_sid=messaging_service_sid
    )
    if not phone or not workspace_ids:
        logger.info("inbound %s to %s: no workspace sends from this number; ignored", channel, to_number)
        return InboundResult(channel=channel, keyword=keyword, workspaces=0, people=0)

    contact, created = InboundContact.objects.select_for_update().get_or_create(
        channel=channel,
        phone=phone,
        to_number=to_number,
        account_sid=scope.account_sid,
        defaults={
            "messaging_service_sid": messaging_service_sid,
            "last_inbound_at": now,
            "last_message_sid": str(params.get("MessageSid") or ""),
            "last_keyword": keyword if keyword in OPT_KEYWORDS else "",
        },
    )
    if not created and now >= contact.last_inbound_at:
        contact.last_inbound_at = now
        contact.last_message_sid = str(params.get("MessageSid") or "")
        contact.messaging_service_sid = messaging_service_sid or contact.messaging_service_sid
        if keyword in OPT_KEYWORDS:
            contact.last_keyword = keyword
        contact.save(update_fields=["last_inbound_at", "last_message_sid", "messaging_service_sid", "last_keyword"])

    changed = 0
    if keyword in OPT_KEYWORDS:
        changed = people_channel_opt_out_set(
            workspace_ids=workspace_ids, phone=phone, channel=channel, opted_out=keyword == "stop"
        )
        logger.info(
            "inbound %s %s from a number in %d workspace(s): %d person(s) changed",
            channel,
            keyword.upper(),
            len(workspace_ids),
            changed,
        )
    return InboundResult(channel=channel, keyword=keyword, workspaces=len(workspace_ids), people=changed)
