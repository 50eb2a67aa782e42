"""Twilio's side of the conversation: signed webhooks, delivery receipts, STOP/START, WhatsApp sessions.

Twilio calls us back in two ways, both form-encoded and signed with the account's auth
token (``X-Twilio-Signature``, checked with the twilio library's ``RequestValidator``):

- **status callbacks** (``POST /api/v1/hooks/twilio/status``): a message's progress
  (``queued → sent → delivered`` or ``undelivered``/``failed``) moves its notification
  forward — never back: a ``delivered`` row stays delivered whatever arrives later.
- **inbound messages** (``POST /api/v1/hooks/twilio/inbound``): STOP/START keywords change
  the sender's opt-outs, and every message opens WhatsApp's 24-hour session window.

**Whose request is it?** A valid signature proves the caller knows one auth token. The
request may then affect only the workspaces whose SMS/WhatsApp channel authenticates with
that token (their own account, or the platform's ``TWILIO_ACCOUNT_SID``/``TWILIO_AUTH_TOKEN``
for channels without one). So a workspace admin who knows their own token cannot forge a
receipt or a STOP for another workspace.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications import conf
from notifications.models import ChannelConfig, InboundContact, Notification, NotificationStatus
from notifications.providers.base import truncate
from workspaces.audit import audit_notification_failed
from workspaces.models import Channel, Person

logger = logging.getLogger(__name__)

S = NotificationStatus
TWILIO_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
# Distinct auth tokens tried for one account (a shared account normally has one; two while rotating).
MAX_TOKENS_PER_ACCOUNT = 10

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


# --- signatures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwilioScope:
    """What a validly signed request may touch: the channels (so the workspaces) using the token that signed it."""

    account_sid: str
    channels: QuerySet  # ChannelConfig rows; ``workspace_ids`` is their workspaces, as a subquery

    @property
    def workspace_ids(self) -> QuerySet:
        return self.channels.values("workspace_id")


def twilio_signature_scope(*, url: str, params, signature: str) -> TwilioScope | None:
    """Checks ``X-Twilio-Signature`` of a webhook; ``None`` when it is missing or forged.

    Tokens tried: those of the SMS/WhatsApp channels (active or not — receipts of earlier
    messages still arrive) with their own account equal to the request's ``AccountSid``,
    then the platform's ``TWILIO_AUTH_TOKEN``. The platform's token, when it signed, covers
    the channels without an account of their own (they send with the platform's) and those
    naming the platform's account. ``url`` must be the exact URL Twilio called (see
    ``notifications.conf.public_base_url``).
    """
    account_sid = str(params.get("AccountSid") or "")
    if not signature or not account_sid:
        return None
    twilio_channels = ChannelConfig.objects.filter(kind__in=TWILIO_CHANNELS)
    by_token: dict[str, list] = defaultdict(list)
    for pk, token in twilio_channels.filter(account_sid=account_sid).values_list("pk", "auth_token"):
        if token:
            by_token[token].append(pk)
    for token in list(by_token)[:MAX_TOKENS_PER_ACCOUNT]:
        if RequestValidator(token).validate(url, params, signature):
            return TwilioScope(account_sid=account_sid, channels=twilio_channels.filter(pk__in=by_token[token]))
    platform_token = settings.TWILIO_AUTH_TOKEN
    if platform_token and RequestValidator(platform_token).validate(url, params, signature):
        platform = Q(account_sid=account_sid)
        if account_sid == settings.TWILIO_ACCOUNT_SID:
            platform |= Q(account_sid="")
        return TwilioScope(account_sid=account_sid, channels=twilio_channels.filter(platform))
    return None


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


def twilio_status_apply(*, scope: TwilioScope, params, notification_hint: str = "", now: datetime | None = None) -> str:
    """Applies one status callback; returns what happened (for logs and tests).

    ``delivered``/``read`` → ``delivered`` (+ ``delivered_at``); ``undelivered``/``failed``/
    ``canceled`` → ``failed`` with the error code in ``last_error``; ``queued``/``sent`` …
    move only an ``unknown`` row (the send timed out, but Twilio had it) to ``sent``. Each is
    one conditional UPDATE from an open status, so replays change nothing and nothing
    leaves ``delivered``. An unknown SID is logged and ignored.
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


def _apply_keyword(person: Person, *, channel: str, keyword: str) -> bool:
    opted_out = list(person.opted_out_channels or [])
    preferred = list(person.preferred_channels or [])
    if keyword == "stop":
        if channel in opted_out:
            return False
        opted_out.append(channel)
        # A channel may not be both preferred and opted out (workspaces.models.validate_channels).
        preferred = [item for item in preferred if item != channel]
    else:
        if channel not in opted_out:
            return False
        opted_out = [item for item in opted_out if item != channel]
    person.opted_out_channels = opted_out
    person.preferred_channels = preferred
    person.save(update_fields=["opted_out_channels", "preferred_channels", "updated_at"])
    return True


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
        people = Person.objects.select_for_update().filter(workspace_id__in=workspace_ids, phone=phone).order_by("pk")
        for person in people:
            changed += _apply_keyword(person, channel=channel, keyword=keyword)
        logger.info(
            "inbound %s %s from a number in %d workspace(s): %d person(s) changed",
            channel,
            keyword.upper(),
            len(workspace_ids),
            changed,
        )
    return InboundResult(channel=channel, keyword=keyword, workspaces=len(workspace_ids), people=changed)


# --- WhatsApp session window ------------------------------------------------------------------


@dataclass(frozen=True)
class WhatsAppSession:
    to_number: str
    messaging_service_sid: str
    account_sid: str


def whatsapp_sessions_open(*, phones: Iterable[str], now: datetime) -> dict[str, list[WhatsAppSession]]:
    """The open WhatsApp session windows of ``phones`` (one query), by phone."""
    phones = {phone for phone in phones if phone}
    if not phones:
        return {}
    since = now - conf.whatsapp_session_window()
    rows = InboundContact.objects.filter(
        channel=Channel.WHATSAPP, phone__in=phones, last_inbound_at__gt=since
    ).values_list("phone", "to_number", "messaging_service_sid", "account_sid")
    found: dict[str, list[WhatsAppSession]] = defaultdict(list)
    for phone, to_number, messaging_service_sid, account_sid in rows:
        found[phone].append(WhatsAppSession(to_number, messaging_service_sid, account_sid))
    return found


def whatsapp_session_is_open(
    sessions: Iterable[WhatsAppSession], *, account_sid: str, from_number: str, messaging_service_sid: str
) -> bool:
    """Whether one of ``sessions`` is with this sender (its number or messaging service, same account)."""
    for session in sessions:
        if session.account_sid != account_sid:
            continue
        if (from_number and session.to_number == from_number) or (
            messaging_service_sid and session.messaging_service_sid == messaging_service_sid
        ):
            return True
    return False
