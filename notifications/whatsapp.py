"""WhatsApp's session window: free-form text only within 24 hours of the person's last message.

Every inbound message (``twilio_hooks.twilio_inbound_apply``) updates one ``InboundContact`` row
per (channel, phone, our number, account); delivery asks here whether a recipient's window with
the sending number is open (one query per claim).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from notifications import conf
from notifications.models import InboundContact
from workspaces.models import Channel


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
