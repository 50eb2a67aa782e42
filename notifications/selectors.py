"""Reads with a rule in them: notification analytics for a workspace and the staff dashboard.

Everything is counted in SQL (``COUNT(*) FILTER (WHERE …)`` grouped by the key), over the
rows of a time range that an index finds: ``(workspace, created_at)`` for a workspace's
stats, a BRIN index on ``created_at`` (PostgreSQL, migration 0003) for today's rows across
all workspaces. Python only fills in the empty groups.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, CharField, Count, F, Max, Q, TextField, Value, When
from django.db.models.functions import Left, Length, StrIndex, Substr, TruncDate

from notifications.models import Notification, NotificationStatus
from workspaces.models import Channel, Workspace

STATUSES: tuple[str, ...] = tuple(NotificationStatus.values)
STAT_GROUPS = ("day", "channel", "status")
TOP_FAILURE_REASONS = 10
REASON_MAX_CHARS = 80


def _status_counts() -> dict:
    # Prefixed names: an annotation may not be called like a model field ("status").
    counts = {f"n_{status}": Count("pk", filter=Q(status=status)) for status in STATUSES}
    counts["n_total"] = Count("pk")
    return counts


def _unprefixed(row: dict) -> dict:
    return {name.removeprefix("n_"): value for name, value in row.items() if name.startswith("n_")}


def _zeros() -> dict:
    return {"total": 0, **dict.fromkeys(STATUSES, 0)}


GAVE_UP_PREFIX = "gave up after "


def failure_reason_expression():
    """The stable head of ``last_error``: the text before its first ``:`` or `` (``.

    Errors are written reason first ("recipient_unsubscribed (twilio 21610: …)",
    "channel_not_found", "whatsapp_session_closed: …", "HTTP 500: …"), so this is the
    provider's code or our name for the failure, cut at ``REASON_MAX_CHARS``. Retries that ran
    out are written "gave up after 5 attempts: <reason>": the reason is what follows, so
    failures group by their real cause rather than by the retry count.
    """
    core = Case(
        When(
            last_error__startswith=GAVE_UP_PREFIX,
            then=Substr("last_error", StrIndex("last_error", Value(": ")) + 2),
        ),
        default=F("last_error"),
        output_field=TextField(),
    )
    colon = StrIndex("_core", Value(":"))
    paren = StrIndex("_core", Value(" ("))
    end = Case(
        When(Q(_colon__gt=0) & (Q(_paren=0) | Q(_colon__lt=F("_paren"))), then=F("_colon")),
        When(_paren__gt=0, then=F("_paren")),
        default=Length("_core") + 1,
    )
    return {"_core": core, "_colon": colon, "_paren": paren}, Left(Substr("_core", 1, end - 1), REASON_MAX_CHARS)


def failure_reasons(queryset, *, limit: int = TOP_FAILURE_REASONS) -> list[dict]:
    """The most frequent failure reasons among the ``failed`` rows of ``queryset``, most frequent first."""
    helpers, reason = failure_reason_expression()
    rows = (
        queryset.filter(status=NotificationStatus.FAILED)
        .alias(**helpers)
        .annotate(reason=Case(When(last_error="", then=Value("unspecified")), default=reason, output_field=CharField()))
        .values("reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "reason")[:limit]
    )
    return [{"reason": row["reason"].strip() or "unspecified", "count": row["count"]} for row in rows]


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def notification_stats(*, workspace: Workspace, start: datetime, end: datetime, group: str) -> dict:
    """Counts per status of the workspace's notifications created in ``[start, end)``, per ``group``.

    ``group``: ``day`` (the local date in the workspace's zone, every day of the range
    listed), ``channel`` or ``status`` (every channel/status listed). Also the totals and
    the top failure reasons. Two queries, both on the ``(workspace, created_at)`` index.
    """
    if group not in STAT_GROUPS:
        raise ValueError(f"group must be one of {', '.join(STAT_GROUPS)}")
    zone = ZoneInfo(workspace.timezone)
    rows = Notification.objects.filter(workspace=workspace, created_at__gte=start, created_at__lt=end)
    key = {
        "day": TruncDate("created_at", tzinfo=zone),
        "channel": F("channel"),
        "status": F("status"),
    }[group]
    # GROUP BY (key, status) and a pivot here: half the work of one COUNT(…) FILTER per status.
    found: dict = {}
    for row in rows.annotate(key=key).values("key", "status").annotate(n=Count("pk")).order_by():
        counts = found.setdefault(row["key"], _zeros())
        counts[row["status"]] += row["n"]
        counts["total"] += row["n"]
    if group == "day":
        first, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
        keys: list = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    else:
        keys = list(Channel.values if group == "channel" else STATUSES)
    keys += sorted((k for k in found if k not in keys), key=str)  # e.g. a channel since retired
    groups = [{"key": k.isoformat() if isinstance(k, date) else str(k), **found.get(k, _zeros())} for k in keys]
    totals = _zeros()
    for counts in found.values():
        for name, value in counts.items():
            totals[name] += value
    return {
        "from": start.astimezone(zone),
        "to": end.astimezone(zone),
        "timezone": workspace.timezone,
        "group": group,
        "totals": totals,
        "groups": groups,
        "failure_reasons": failure_reasons(rows),
    }


# --- staff dashboard ----------------------------------------------------------------------------


def utc_day_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


UTC_ZONE = ZoneInfo("UTC")


def local_day_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day of ``now`` in ``zone``: from its midnight to the next (23 or 25 hours across a DST change)."""
    day = now.astimezone(zone).date()
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


def notifications_today_by_channel(*, now: datetime, zone: ZoneInfo = UTC_ZONE) -> list[dict]:
    """Today's notifications (``zone``'s day, default UTC) of all workspaces per channel: ``sent`` counts
    everything handed over (sent or delivered), ``open`` what is still pending or sending."""
    start, end = local_day_bounds(now, zone)
    found = {
        row["channel"]: _unprefixed(row)
        for row in Notification.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("channel")
        .annotate(**_status_counts())
        .order_by("channel")
    }
    result = []
    for channel, label in Channel.choices:
        counts = found.get(channel, _zeros())
        result.append(
            {
                "channel": channel,
                "label": label,
                "total": counts["total"],
                "sent": counts["sent"] + counts["delivered"],
                "delivered": counts["delivered"],
                "failed": counts["failed"],
                "unknown": counts["unknown"],
                "skipped": counts["skipped"],
                "open": counts["pending"] + counts["sending"],
            }
        )
    return result


def failing_workspaces_today(*, now: datetime, zone: ZoneInfo = UTC_ZONE, limit: int = 20) -> list[dict]:
    """The workspaces with the most failed notifications created today (``zone``'s day, default UTC), with
    their totals and top reason."""
    start, end = local_day_bounds(now, zone)
    today = Notification.objects.filter(created_at__gte=start, created_at__lt=end)
    failing = list(
        today.filter(status=NotificationStatus.FAILED)
        .values("workspace_id", "workspace__name")
        .annotate(failed=Count("pk"), last_failure_at=Max("updated_at"))
        .order_by("-failed", "workspace__name")[:limit]
    )
    if not failing:
        return []
    ids = [row["workspace_id"] for row in failing]
    totals = dict(
        today.filter(workspace_id__in=ids)
        .values("workspace_id")
        .annotate(total=Count("pk"))
        .values_list("workspace_id", "total")
    )
    helpers, reason = failure_reason_expression()
    top_reasons: dict = {}
    for row in (
        today.filter(workspace_id__in=ids, status=NotificationStatus.FAILED)
        .alias(**helpers)
        .annotate(reason=reason)
        .values("workspace_id", "reason")
        .annotate(count=Count("pk"))
        .order_by("workspace_id", "-count", "reason")
    ):
        top_reasons.setdefault(row["workspace_id"], (row["reason"] or "").strip() or "unspecified")
    return [
        {
            "workspace_id": row["workspace_id"],
            "name": row["workspace__name"],
            "failed": row["failed"],
            "total": totals.get(row["workspace_id"], row["failed"]),
            "failure_rate": row["failed"] / max(1, totals.get(row["workspace_id"], row["failed"])),
            "top_reason": top_reasons.get(row["workspace_id"], ""),
            "last_failure_at": row["last_failure_at"],
        }
        for row in failing
    ]


def notifications_per_day_and_channel(*, start: datetime, days: int, zone: ZoneInfo) -> list[dict]:
    """Counts of the ``days`` local days from ``start`` (a local midnight) per channel: sent and failed."""
    end = start + timedelta(days=days)
    rows = (
        Notification.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "channel")
        .annotate(
            sent=Count("pk", filter=Q(status__in=(NotificationStatus.SENT, NotificationStatus.DELIVERED))),
            failed=Count("pk", filter=Q(status__in=(NotificationStatus.FAILED, NotificationStatus.UNKNOWN))),
            total=Count("pk"),
        )
    )
    found = {(row["day"], row["channel"]): row for row in rows}
    result = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).astimezone(zone).date()
        for channel in Channel.values:
            row = found.get((day, channel), {})
            result.append(
                {
                    "day": day,
                    "channel": channel,
                    "sent": row.get("sent", 0),
                    "failed": row.get("failed", 0),
                    "total": row.get("total", 0),
                }
            )
    return result


def notifications_stuck(*, now: datetime, minutes: int, limit: int = 50) -> list[Notification]:
    """Rows left pending or sending for more than ``minutes`` (a worker or the broker is not taking them)."""
    cutoff = now - timedelta(minutes=minutes)
    return list(
        Notification.objects.filter(
            status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING), next_attempt_at__lt=cutoff
        )
        .select_related("workspace")
        .order_by("next_attempt_at")[:limit]
    )
