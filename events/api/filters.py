from django.db.models import Exists, OuterRef
from django_filters import rest_framework as filters

from events.models import Attendee, Event, EventKind, EventStatus


class EventFilterSet(filters.FilterSet):
    """Filters for the event list. The calendar window (``from``/``to``) is read by the view."""

    kind = filters.ChoiceFilter(choices=EventKind.choices)
    status = filters.ChoiceFilter(
        choices=EventStatus.choices,
        help_text="Without it every status is listed, except in calendar mode (`from`/`to`): active only.",
    )
    host = filters.UUIDFilter(field_name="host", help_text="Events hosted by this member (user id).")
    attendee = filters.UUIDFilter(method="filter_attendee", help_text="Events this person (person id) attends.")

    class Meta:
        model = Event
        fields = ("kind", "status", "host", "attendee")

    def filter_attendee(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(Exists(Attendee.objects.filter(event=OuterRef("pk"), person_id=value)))
