from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django.core.validators import MaxValueValidator, MinValueValidator

from notifications.models import Notification, NotificationStatus
from workspaces.models import Channel

# Local dates whose midnight exists in UTC in every zone (day 1 and the last day would overflow).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(9998, 12, 31)
DATE_BOUNDS = {
    "validators": [
        MinValueValidator(EARLIEST_DATE, message=f"Enter a date from {EARLIEST_DATE} on."),
        MaxValueValidator(LATEST_DATE, message=f"Enter a date up to {LATEST_DATE}."),
    ]
}


class NotificationFilterSet(django_filters.FilterSet):
    """History filters. ``date_from``/``date_to`` are local dates in the workspace's time zone (inclusive)."""

    status = django_filters.MultipleChoiceFilter(choices=NotificationStatus.choices)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    date_from = django_filters.DateFilter(
        method="filter_date_from", label="Created on or after (local date)", **DATE_BOUNDS
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", label="Created on or before (local date)", **DATE_BOUNDS
    )
    person = django_filters.UUIDFilter(field_name="person_id")
    reminder = django_filters.UUIDFilter(field_name="reminder_id")

    class Meta:
        model = Notification
        fields = ("status", "channel", "person", "reminder", "date_from", "date_to")

    def _local_midnight(self, day) -> datetime:
        view = self.request.parser_context["view"] if self.request is not None else None
        zone = ZoneInfo(view.workspace.timezone) if view is not None and hasattr(view, "workspace") else ZoneInfo("UTC")
        return datetime.combine(day, time.min, tzinfo=zone)

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=self._local_midnight(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=self._local_midnight(value + timedelta(days=1)))
