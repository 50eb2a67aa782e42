"""The staff delivery dashboard: today's sent and failed notifications per channel, and
the workspaces failing most, each linked to its filtered notification list; and whether the
worker's periodic jobs (the scheduling tick, the delivery sweeper) are succeeding.

Served by ``NotificationAdmin.get_urls`` at ``/admin/notifications/notification/dashboard/``
(so it sits behind ``admin_site.admin_view``: active staff only, others are sent to the
login page) and listed first in the admin index's Deliveries group (``birthdaybuddy/admin_site.py``).
Days and times are those of the zone chosen with ``?tz=`` (default UTC): "today" is that zone's
day, for the counts, the failing workspaces, the links and the worker's jobs; the tables scroll inside
their own boxes on a phone, and the week's chart is drawn narrow enough to stay legible there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from birthdaybuddy import tzdb, worker_health
from birthdaybuddy.validators import available_timezones
from notifications import selectors
from notifications.models import NotificationStatus


def changelist_url(
    *, bounds: tuple[datetime, datetime], workspace_id=None, status: str | None = None, channel: str | None = None
) -> str:
    """The notification changelist filtered to one day (``[start, end)``, any zone's) and more."""
    start, end = bounds
    query = {"created_at__gte": start.isoformat(), "created_at__lt": end.isoformat()}
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


CHART_DAYS = 7
# The chart is drawn narrow enough for a 390 px phone at about its natural size (labels stay legible):
# each day is a heading row with its channels below it, labels left of the bars, counts after them.
CHART_WIDTH = 400
CHART_ROW = 16
CHART_LABEL = 70  # where the bars start
CHART_COUNT = 100  # room kept right of the longest bar for its count
STUCK_MINUTES_DEFAULT = 15


def _zone(request) -> ZoneInfo:
    name = (request.GET.get("tz") or "UTC").strip()
    if name not in available_timezones():
        return ZoneInfo("UTC")
    return ZoneInfo(name)


def _chart(rows: list[dict]) -> dict:
    """Bars for a server-drawn SVG: per day a heading row, then one bar per channel (sent, then failed)."""
    peak = max([row["total"] for row in rows] + [1])
    span = CHART_WIDTH - CHART_LABEL - CHART_COUNT
    days: dict = {}
    for row in rows:
        days.setdefault(row["day"], []).append(row)
    groups = []
    y = 0
    for day, channels in days.items():
        heading_y = y + CHART_ROW - 4
        y += CHART_ROW
        bars = []
        for row in channels:
            sent_width = round(row["sent"] / peak * span, 1)
            failed_width = round(row["failed"] / peak * span, 1)
            bars.append(
                {
                    **row,
                    "y": y + 2,
                    "text_y": y + CHART_ROW - 4,
                    "sent_width": sent_width,
                    "failed_x": CHART_LABEL + sent_width,
                    "failed_width": failed_width,
                    "label_x": CHART_LABEL + sent_width + failed_width + 4,
                }
            )
            y += CHART_ROW
        groups.append({"day": day, "text_y": heading_y, "bars": bars})
        y += 6
    return {"groups": groups, "height": y, "width": CHART_WIDTH, "bars_x": CHART_LABEL}


def resend_failed_view(request, pk, *, model_admin):
    """Resends today's failed notifications of workspace ``pk`` (POST from the dashboard; staff only)."""
    from audit.names import ADMIN_ORIGIN
    from birthdaybuddy.errors import ApplicationError
    from notifications import services
    from notifications.models import Notification

    if request.method != "POST" or not request.user.has_perm("notifications.change_notification"):
        raise PermissionDenied
    zone = _zone(request)
    start, _ = selectors.local_day_bounds(timezone.now(), zone)
    failed = Notification.objects.filter(
        workspace_id=pk, status=NotificationStatus.FAILED, created_at__gte=start
    ).order_by("created_at")[:RESEND_LIMIT]
    done = refused = 0
    for notification in failed:
        try:
            services.notification_resend(notification=notification, actor=request.user, origin=ADMIN_ORIGIN)
            done += 1
        except ApplicationError:
            refused += 1
    text = f"Resent {done} failed notification(s)"
    if refused:
        text += f"; {refused} were already resent"
    model_admin.message_user(request, text + ".", messages.SUCCESS if done else messages.WARNING)
    return redirect(reverse("admin:notifications_dashboard") + f"?tz={zone.key}")


RESEND_LIMIT = 500


def dashboard_view(request, *, model_admin):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    zone = _zone(request)
    try:
        stuck_minutes = max(1, min(24 * 60, int(request.GET.get("stuck") or STUCK_MINUTES_DEFAULT)))
    except ValueError:
        stuck_minutes = STUCK_MINUTES_DEFAULT
    bounds = selectors.local_day_bounds(now, zone)
    day = bounds[0].date()
    channels = selectors.notifications_today_by_channel(now=now, zone=zone)
    for row in channels:
        row["url"] = changelist_url(bounds=bounds, channel=row["channel"])
        row["failed_url"] = changelist_url(bounds=bounds, channel=row["channel"], status=NotificationStatus.FAILED)
    failing = selectors.failing_workspaces_today(now=now, zone=zone)
    for row in failing:
        row["url"] = changelist_url(bounds=bounds, workspace_id=row["workspace_id"], status=NotificationStatus.FAILED)
        row["workspace_url"] = reverse("admin:workspaces_workspace_change", args=[row["workspace_id"]])
        row["resend_url"] = reverse("admin:notifications_resend_failed", args=[row["workspace_id"]]) + f"?tz={zone.key}"
    totals = {
        name: sum(row[name] for row in channels)
        for name in ("total", "sent", "delivered", "failed", "unknown", "skipped", "open")
    }
    local_today = now.astimezone(zone).date()
    week_start = selectors.local_midnight(local_today - timedelta(days=CHART_DAYS - 1), zone)
    week = selectors.notifications_per_day_and_channel(start=week_start, days=CHART_DAYS, zone=zone)
    stuck = selectors.notifications_stuck(now=now, minutes=stuck_minutes)
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
        "all_url": changelist_url(bounds=bounds),
        "zone": zone.key,
        "local_now": now.astimezone(zone),
        "zones": ["UTC", *[z for z in sorted(_common_zones()) if z != "UTC"]],
        "chart": _chart(week),
        "week": week,
        "stuck": [
            {
                "notification": n,
                "url": reverse("admin:notifications_notification_change", args=[n.pk]),
                "since": n.next_attempt_at.astimezone(zone),
                "minutes": int((now - n.next_attempt_at).total_seconds() // 60),
            }
            for n in stuck
        ],
        "stuck_minutes": stuck_minutes,
    }
    return TemplateResponse(request, "admin/notifications/dashboard.html", context)


def _common_zones() -> set[str]:
    """The zones the workspaces use (the chooser's list; any IANA name works in ``?tz=``)."""
    from workspaces.models import Workspace

    return set(Workspace.objects.values_list("timezone", flat=True).distinct()[:100])
