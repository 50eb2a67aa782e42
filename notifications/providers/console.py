"""The console/outbox provider of the embedded default: nothing leaves the machine.

Each message is logged and appended as one JSON line to ``var/outbox/<YYYY-MM-DD>.jsonl``
(UTC date), so ``make run`` shows what would have been sent, to whom, and when.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from notifications.providers.base import Message, SendResult

logger = logging.getLogger("notifications.outbox")


class ConsoleProvider:
    name = "console"
    rate_key = None
    rate_per_second = None

    def __init__(self, *, outbox_dir: Path):
        self.outbox_dir = outbox_dir

    def send(self, message: Message) -> SendResult:
        now = datetime.now(UTC)
        message_id = f"outbox-{uuid.uuid4().hex[:16]}"
        record = {
            "id": message_id,
            "at": now.isoformat(),
            "notification_id": message.notification_id,
            "channel": message.channel,
            "recipient": message.recipient,
            "subject": message.subject,
            "body": message.body,
            "workspace": message.workspace_name,
        }
        logger.info("outbox %s to %s: %s", message.channel, message.recipient, message.body)
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        # One write() on an O_APPEND descriptor: lines from several processes never interleave.
        fd = os.open(self.outbox_dir / f"{now:%Y-%m-%d}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return SendResult(provider_message_id=message_id, detail="written to the outbox")
