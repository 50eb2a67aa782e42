"""Replaying a notification from the audit trail: the entry names it, the resend sends it again."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db import transaction

from birthdaybuddy.errors import ApplicationError
from notifications import services as notification_services
from notifications.models import Notification
from workspaces.models import Workspace


class NotAReplayableEntry(ApplicationError):
    status_code = 404
    default_code = "not_found"


def replayable_notification(*, entry: LogEntry, workspace: Workspace | None = None) -> Notification:
    """The notification ``entry`` is about (of ``workspace``, if given), or :class:`NotAReplayableEntry`."""
    if entry.content_type.model_class() is not Notification:
        raise NotAReplayableEntry("Only entries about a notification can be replayed.", code="not_replayable")
    notifications = Notification.objects.filter(pk=entry.object_pk)
    if workspace is not None:
        notifications = notifications.filter(workspace=workspace)
    notification = notifications.first()
    if notification is None:
        raise NotAReplayableEntry("The notification of this entry no longer exists.", code="not_found")
    return notification


@transaction.atomic
def audit_entry_replay(
    *, entry: LogEntry, workspace: Workspace | None, actor, origin: str | None = None
) -> Notification:
    """Resends the notification an entry is about (the same as the notifications' resend).

    Only entries about a notification (of ``workspace``, when the caller is scoped to one; the
    staff's admin is not) can be replayed (else :class:`NotAReplayableEntry`, a 404); the
    resend decides whether it may be sent again (``Conflict``, a 409, unless it is ``failed``
    or ``unknown``). The replay is itself audited as a ``notification.resend``.
    """
    notification = replayable_notification(entry=entry, workspace=workspace)
    return notification_services.notification_resend(
        notification=notification, actor=actor, details={"replayed_entry": entry.pk}, origin=origin
    )
