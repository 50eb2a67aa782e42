from django_filters import rest_framework as filters

from reminders.models import Audience, Reminder, ReminderKind


class ReminderFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ReminderKind.choices)
    audience = filters.ChoiceFilter(choices=Audience.choices)
    active = filters.BooleanFilter()
    urgent = filters.BooleanFilter()
    event = filters.UUIDFilter(field_name="event", help_text="Only the reminders of this event.")
    next_run_before = filters.IsoDateTimeFilter(
        field_name="next_run_at", lookup_expr="lte", help_text="Sent next at or before this instant."
    )
    next_run_after = filters.IsoDateTimeFilter(
        field_name="next_run_at", lookup_expr="gte", help_text="Sent next at or after this instant."
    )

    class Meta:
        model = Reminder
        fields = ("kind", "audience", "active", "urgent", "event", "next_run_before", "next_run_after")
