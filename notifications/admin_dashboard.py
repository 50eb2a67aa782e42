"""The staff delivery dashboard: today's (UTC) sent and failed notifications per channel, and
the workspaces failing most, each linked to its filtered notification list.

Served by ``NotificationAdmin.get_urls`` at ``/admin/notifications/notification/dashboard/``
(so it sits behind ``admin_site.admin_view``: active staff only, others are sent to the
login page) and linked from the admin index (``templates/admin/index.html``).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from notifications import selectors
from notifications.models import NotificationStatus


def changelist_url(*, day, workspace_id=None, status: str | None = None, channel: str | None = None) -> str:
    """The notification changelist filtered to one UTC day (its date hierarchy) and more."""
    query = {"created_at__year": day.year, "created_at__month": day.month, "created_at__day": day.day}
    if workspace_id is not None:
        query["workspace__id__exact"] = str(workspace_id)
    if status:
        query["status__exact"] = status
    if channel:
        query["channel__exact"] = channel
    return reverse("admin:notifications_notification_changelist") + "?" + urlencode(query)


def dashboard_view(request, *, model_admin):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    start, _ = selectors.utc_day_bounds(now)
    day = start.date()
    channels = selectors.notifications_today_by_channel(now=now)
    for row in channels:
        row["url"] = changelist_url(day=day, channel=row["channel"])
        row["failed_url"] = changelist_url(day=day, channel=row["channel"], status=NotificationStatus.FAILED)
    failing = selectors.failing_workspaces_today(now=now)
    for row in failing:
        row["url"] = changelist_url(day=day, workspace_id=row["workspace_id"], status=NotificationStatus.FAILED)
        row["workspace_url"] = reverse("admin:workspaces_workspace_change", args=[row["workspace_id"]])
    totals = {
        name: sum(row[name] for row in channels)
        for name in ("total", "sent", "delivered", "failed", "unknown", "skipped", "open")
    }
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Delivery dashboard",
        "subtitle": None,
        "opts": model_admin.model._meta,
        "day": day,
        "generated_at": now,
        "channels": channels,
        "totals": totals,
        "failing": failing,
        "all_url": changelist_url(day=day),
    }
    return TemplateResponse(request, "admin/notifications/dashboard.html", context)
