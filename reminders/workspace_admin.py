"""The workspace admin page's "Deliveries" rows: the last birthday digest and today's failures.

The workspace admin (``workspaces.admin``) sits below reminders and notifications, so it knows
neither; this module, which may read both, registers the rows (``register_workspace_panel``).
Times are in the workspace's zone with the zone named.
"""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from birthdaybuddy.admin_tools import local_time
from birthdaybuddy.timerules.recurrence import local_to_utc
from notifications.models import Notification, NotificationStatus
from reminders.models import Reminder, ReminderKind
from workspaces.admin import register_workspace_panel
from workspaces.models import Workspace

# Statuses in the order a digest's result is told.
ORDER = (
    NotificationStatus.SENT,
    NotificationStatus.DELIVERED,
    NotificationStatus.PENDING,
    NotificationStatus.SENDING,
    NotificationStatus.FAILED,
    NotificationStatus.UNKNOWN,
    NotificationStatus.SKIPPED,
)
OPEN = (NotificationStatus.PENDING, NotificationStatus.SENDING)
BAD = (NotificationStatus.FAILED, NotificationStatus.UNKNOWN)


def _notifications_url(**filters) -> str:
    return f"{reverse('admin:notifications_notification_changelist')}?{urlencode(filters)}"


def digest_rows(workspace: Workspace) -> list[tuple[str, str]]:
    """When the digest last ran, for which day, with how many messages in each state; when it runs next."""
    digest = Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).first()
    if digest is None:
        return [("Last digest", "No digest yet.")]
    zone = workspace.timezone
    rows = Notification.objects.filter(reminder=digest)
    day = rows.aggregate(day=Max("occurrence_date"))["day"]
    if day is None:
        text = "Nothing sent yet"
        if digest.last_run_at:
            text += f" (it last ran {local_time(digest.last_run_at, zone)}, with nobody to celebrate or reach)"
        last = format_html("{}.", text)
    else:
        counts = dict(rows.filter(occurrence_date=day).values_list("status").annotate(n=Count("id")).order_by())
        parts = ", ".join(f"{counts[status]} {status}" for status in ORDER if counts.get(status))
        if any(counts.get(status) for status in BAD):
            result, css = "failures", "bb-alert"
        elif any(counts.get(status) for status in OPEN):
            result, css = "still sending", ""
        else:
            result, css = "delivered", ""
        url = _notifications_url(workspace__id__exact=workspace.pk, reminder=digest.pk, occurrence_date=day)
        last = format_html(
            '<a href="{}">{}</a>: <span class="{}">{}</span> ({}). Ran {}.',
            url,
            f"{day:%a %-d %b %Y}",
            css,
            result,
            parts,
            local_time(digest.last_run_at, zone),
        )
    state = "" if digest.active else " (paused)"
    return [("Last digest", last), ("Next digest", f"{local_time(digest.next_run_at, zone)}{state}")]


def failure_rows(workspace: Workspace, *, now: datetime | None = None) -> list[tuple[str, str]]:
    """How many of today's messages (the workspace's local day) failed, linked to them."""
    tz = ZoneInfo(workspace.timezone)
    today = (now or timezone.now()).astimezone(tz).date()
    since = local_to_utc(datetime.combine(today, time(0)), tz)
    failed = Notification.objects.filter(
        workspace=workspace, status=NotificationStatus.FAILED, created_at__gte=since
    ).count()
    url = _notifications_url(
        workspace__id__exact=workspace.pk, status__exact=NotificationStatus.FAILED, created_at__gte=since.isoformat()
    )
    css = "bb-alert" if failed else ""
    text = format_html(
        '<a href="{}" class="{}">{} failed</a> today ({}, {})', url, css, failed, f"{today:%a %-d %b}", tz.key
    )
    return [("Today's failures", text)]


register_workspace_panel(digest_rows)
register_workspace_panel(failure_rows)
