"""The staff delivery dashboard: today's (UTC) sent and failed notifications per channel, and
the workspaces failing most, each linked to its filtered notification list; and whether the
worker's periodic jobs (the scheduling tick, the delivery sweeper) are succeeding.

Served by ``NotificationAdmin.get_urls`` at ``/admin/notifications/notification/dashboard/``
(so it sits behind ``admin_site.admin_view``: active staff only, others are sent to the
login page) and linked from the admin index (``templates/admin/index.html``).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from birthdaybuddy import tzdb, worker_health
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


def _worker_jobs(now) -> dict:
    """The worker's periodic jobs as the dashboard shows them (times parsed, labels added)."""
    try:
        status = worker_health.jobs_status(now=now)
    except Exception as exc:
        return {"ok": False, "error": f"The worker's health cannot be read: {type(exc).__name__}", "jobs": []}
    labels = {"tick": "Scheduling tick", "sweep": "Delivery sweeper"}
    jobs = []
    for name, job in status["jobs"].items():
        jobs.append(
            {
                "name": name,
                "label": labels.get(name, name),
                **job,
                "last_success_at": _parsed(job.get("last_success_at")),
                "last_failure_at": _parsed(job.get("last_failure_at")),
            }
        )
    return {"ok": status["ok"], "jobs": jobs}


def _parsed(value: str | None):
    return datetime.fromisoformat(value) if value else None


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
        "worker": _worker_jobs(now),
        "tzdb": tzdb.status(),
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
