"""The names an entry is stored and read by: its JSON keys, the operations, where it came from."""

from __future__ import annotations

WORKSPACE_KEY = "workspace_id"
OPERATION_KEY = "operation"
DETAILS_KEY = "details"
MASK = "********"
TIMESTAMPS = ("created_at", "updated_at")

# Operations recorded by audit_manual_send (others may be added; these are the known ones).
OPERATIONS = (
    "notification.resend",
    "reminder.send_now",
    "digest.run_now",
    "channel.test",
    "people.import",
    "event.resend_invitation",
)
# ``details["origin"]`` of entries made outside the API (the API leaves it out).
ORIGIN_KEY = "origin"
ADMIN_ORIGIN = "admin"


def command_origin(name: str) -> str:
    """The origin label of entries written by a management command, e.g. ``manage.py run_birthday_job``."""
    return f"manage.py {name}"


# What the system records on its own (audit_notification_failed): shown as action "system".
NOTIFICATION_FAILED = "notification.failed"
SYSTEM_OPERATIONS = (NOTIFICATION_FAILED,)
