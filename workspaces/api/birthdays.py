"""Upcoming birthdays and work anniversaries of a workspace (read-only; dates are edited on /people/)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets

from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.birthdays import (
    DEFAULT_DAYS,
    KINDS,
    MAX_DAYS,
    birthday_list_upcoming,
    birthday_rows_for_viewer,
)


class BirthdayQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        help_text=f"Window length in days from today, today included (default {DEFAULT_DAYS} without `month`).",
    )
    month = serializers.IntegerField(
        min_value=1, max_value=12, required=False, help_text="Only dates in the next occurrence of this month."
    )
    kind = serializers.ChoiceField(
        choices=[(kind, kind) for kind in KINDS], required=False, help_text="Only birthdays or only anniversaries."
    )


class BirthdayPersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slack_user_id = serializers.CharField(help_text="Slack member id, for mentions; empty when unknown.")


# Describes the rows for the schema; the view builds them itself (cheaper on the cached path).
class BirthdaySerializer(serializers.Serializer):
    """One upcoming birthday or work anniversary."""

    person = BirthdayPersonSerializer()
    kind = serializers.ChoiceField(choices=[(kind, kind) for kind in KINDS])
    date = serializers.DateField(help_text="The next celebration date in the workspace's time zone.")
    days_until = serializers.IntegerField(help_text="Days from the workspace's local today (0 = today).")
    age = serializers.IntegerField(
        allow_null=True,
        help_text="Birthdays: the age turned on `date`, or null when the birth year is unknown or hidden from you.",
    )
    years = serializers.IntegerField(
        allow_null=True, help_text="Anniversaries: whole years since `joined_on` (at least 1); null for birthdays."
    )


@extend_schema(
    tags=["birthdays"],
    summary="List upcoming birthdays and work anniversaries",
    description=(
        "**Permissions:** any member of the workspace (staff: any workspace).\n\n"
        "The people's next birthdays and work anniversaries, ordered by date (then birthdays before "
        "anniversaries, then name). Dates are local to the workspace's time zone and *today* is the "
        "workspace's local date. Feb 29 is celebrated on Feb 28 or Mar 1 in common years, as the "
        "workspace's `leap_day_policy` says. An anniversary is listed from its first year on.\n\n"
        f"The window is `days` calendar days from today, today included (default {DEFAULT_DAYS}, at most "
        f"{MAX_DAYS}: every next date fits in 366 days). With `month`, the window is instead the next "
        "occurrence of that month: this month from today on if it is the current month, otherwise the "
        "month's next coming; `days`, if also given, narrows it further.\n\n"
        "`age` follows the People API's rule for `birth_year`: shown when the person allows it "
        "(`show_age`), and otherwise only to owners/admins, staff and the person themself. The result "
        "is paginated like every list (`page`, `page_size`); it is served from a per-workspace cache "
        "that every change to the workspace's people, members or settings invalidates."
    ),
    parameters=[WORKSPACE_ID, BirthdayQuerySerializer],
    responses={200: BirthdaySerializer(many=True)},
)
class BirthdayViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    serializer_class = BirthdaySerializer
    # The rows come from a cached selector, not a queryset: nothing to filter or order here.
    filter_backends: list = []

    def list(self, request, *args, **kwargs):
        params = BirthdayQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = birthday_list_upcoming(workspace=self.workspace, **params.validated_data)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(birthday_rows_for_viewer(page, viewer=request.user, viewer_role=self.role))
