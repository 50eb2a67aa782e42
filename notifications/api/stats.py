"""``GET /api/v1/workspaces/{workspace_id}/notifications/stats``: notification analytics, counted in SQL."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.models import ADMIN_ROLES

SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")
MIN_YEAR, MAX_YEAR = 1970, 9000  # far from date.min/max, so zone arithmetic never overflows
MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
ADMINS = "**Permissions:** workspace owners and admins (and staff). Members get 403, non-members 404."


@extend_schema_field(OpenApiTypes.STR)
class LocalDateOrInstantField(serializers.Field):
    """``YYYY-MM-DD`` (a local date in the workspace's zone) or an ISO 8601 date-time.

    A date-time without an offset is read in the workspace's zone.
    """

    default_error_messages = {
        "invalid": "Enter a date (YYYY-MM-DD) or an ISO 8601 date-time such as 2026-11-01T09:00:00+01:00.",
    }

    def to_internal_value(self, data):
        text = str(data).strip()
        if "T" in text:
            # An unencoded "+01:00" arrives as " 01:00" (a "+" in a query string is a space).
            text = SPACED_OFFSET.sub(r"+\1", text)
        try:
            value = parse_datetime(text) if "T" in text or " " in text else parse_date(text)
        except ValueError:
            value = None
        if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
            self.fail("invalid")
        return value


class NotificationStatsQuerySerializer(serializers.Serializer):
    """Query of the stats endpoint (``from`` and ``to`` are added in ``get_fields``: Python keywords)."""

    group = serializers.ChoiceField(
        choices=selectors.STAT_GROUPS,
        default="day",
        help_text="`day` (local dates in the workspace's zone), `channel` or `status`.",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocalDateOrInstantField(
            required=False,
            help_text=(
                "Start: a local date (from its midnight in the workspace's zone) or a date-time. "
                f"Default: {DEFAULT_RANGE_DAYS - 1} days before `to`."
            ),
        )
        fields["to"] = LocalDateOrInstantField(
            required=False,
            help_text=(
                "End: a local date (inclusive: up to the next midnight) or a date-time (exclusive). Default: today."
            ),
        )
        return fields

    def validate(self, attrs):
        zone = ZoneInfo(self.context["workspace"].timezone)
        raw_to = attrs.get("to")
        if raw_to is None:
            raw_to = timezone.now().astimezone(zone).date()
        end = _instant(raw_to, zone, end=True)
        raw_from = attrs.get("from")
        if raw_from is None:
            start_date = (end - timedelta(microseconds=1)).astimezone(zone).date() - timedelta(
                days=DEFAULT_RANGE_DAYS - 1
            )
            raw_from = start_date
        start = _instant(raw_from, zone, end=False)
        if start >= end:
            raise serializers.ValidationError({"from": ["`from` must be before `to`."]})
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            raise serializers.ValidationError({"to": [f"The range may cover at most {MAX_RANGE_DAYS} days."]})
        return {"start": start, "end": end, "group": attrs["group"]}


def _instant(value: date | datetime, zone: ZoneInfo, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return selectors.local_midnight(value + timedelta(days=1) if end else value, zone)


class StatusCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    sending = serializers.IntegerField()
    sent = serializers.IntegerField(help_text="Handed to the provider, no delivery receipt (yet).")
    delivered = serializers.IntegerField(help_text="Confirmed by a delivery receipt (SMS/WhatsApp).")
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Not sent: the person opted out of the channel.")
    unknown = serializers.IntegerField(help_text="Outcome unknown (timeout after sending); resend if needed.")


class StatsGroupSerializer(StatusCountsSerializer):
    key = serializers.CharField(help_text="The local date (`day`), the channel or the status.")


class FailureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="The head of the error: the provider's code or our name for the failure.")
    count = serializers.IntegerField()


class LocalDateTimeField(serializers.DateTimeField):
    """An aware date-time shown with its own offset (the workspace's), not converted to UTC."""

    def to_representation(self, value):
        return value.isoformat()


class NotificationStatsSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    group = serializers.ChoiceField(choices=selectors.STAT_GROUPS)
    totals = StatusCountsSerializer()
    groups = StatsGroupSerializer(many=True)
    failure_reasons = FailureReasonSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = LocalDateTimeField(help_text="Start of the range (inclusive), in the workspace's zone.")
        fields["to"] = LocalDateTimeField(help_text="End of the range (exclusive), in the workspace's zone.")
        return fields


class NotificationStatsView(WorkspaceScopedMixin, APIView):
    read_roles = ADMIN_ROLES

    @extend_schema(
        tags=["notifications"],
        summary="Notification analytics",
        operation_id="workspaces_notifications_stats",
        description=(
            "Counts of the workspace's notifications created in a range, per status (`sent`, `delivered`, "
            "`failed`, `skipped`, `unknown`, `pending`, `sending`) and in total, grouped by local `day`, "
            "`channel` or `status` (every day, channel or status is listed, with zeros), plus the top "
            f"failure reasons. Ranges of at most {MAX_RANGE_DAYS} days; default: the last "
            f"{DEFAULT_RANGE_DAYS} local days. 400 for a malformed date, an unknown group or `from` "
            f"not before `to`. {ADMINS}"
        ),
        parameters=[NotificationStatsQuerySerializer],
        responses={200: NotificationStatsSerializer},
    )
    def get(self, request, *args, **kwargs):
        query = NotificationStatsQuerySerializer(data=request.query_params, context={"workspace": self.workspace})
        query.is_valid(raise_exception=True)
        stats = selectors.notification_stats(workspace=self.workspace, **query.validated_data)
        return Response(NotificationStatsSerializer(stats).data)
