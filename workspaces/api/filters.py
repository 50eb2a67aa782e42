import calendar

from django_filters import rest_framework as filters

from workspaces.models import Invitation, InvitationStatus, Membership, Person, Role

MONTH_CHOICES = [(month, calendar.month_name[month]) for month in range(1, 13)]
DAY_CHOICES = [(day, str(day)) for day in range(1, 32)]


class PersonFilterSet(filters.FilterSet):
    """Filters for the people list. There is deliberately no birth-year filter: it would reveal hidden ages."""

    birth_month = filters.TypedChoiceFilter(choices=MONTH_CHOICES, coerce=int, help_text="Birthday month, 1-12.")
    birth_day = filters.TypedChoiceFilter(choices=DAY_CHOICES, coerce=int, help_text="Birthday day of month, 1-31.")
    has_birthday = filters.BooleanFilter(method="filter_has_birthday", help_text="Whether a birthday is known.")
    is_member = filters.BooleanFilter(
        field_name="user", lookup_expr="isnull", exclude=True, help_text="Whether the person is a workspace member."
    )
    user = filters.UUIDFilter(field_name="user", help_text="Only the person linked to this user account.")
    joined_on = filters.DateFromToRangeFilter(
        help_text="Start date range: joined_on_after / joined_on_before (YYYY-MM-DD, inclusive)."
    )

    class Meta:
        model = Person
        fields = ("birth_month", "birth_day", "has_birthday", "is_member", "user", "joined_on")

    def filter_has_birthday(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.with_birthday() if value else queryset.filter(birth_month__isnull=True)


class MembershipFilterSet(filters.FilterSet):
    role = filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ("role",)


class InvitationFilterSet(filters.FilterSet):
    status = filters.ChoiceFilter(choices=InvitationStatus.choices, method="filter_status")
    role = filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Invitation
        fields = ("status", "role")

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value) if value else queryset
