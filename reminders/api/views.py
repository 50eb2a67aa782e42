"""Reminder CRUD. Sending now and previewing go through the scheduler (scheduling/api)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from birthdaybuddy.api.schema import CONFLICT, NO_CONTENT
from reminders import services
from reminders.api.filters import ReminderFilterSet
from reminders.api.serializers import ReminderSerializer
from reminders.models import Reminder
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID

NO_PUT = ("get", "post", "patch", "delete", "head", "options")
READ = "**Permissions:** any member of the workspace."
WRITE = "**Permissions:** workspace owner or admin."


@extend_schema_view(
    list=extend_schema(
        summary="List reminders",
        description=f"The workspace's reminders (its birthday digest included), soonest first. {READ}",
    ),
    retrieve=extend_schema(summary="Get a reminder", description=READ),
    create=extend_schema(
        summary="Create a reminder",
        description=(
            "An event reminder (`event`, `offset_minutes` before it, optional `at_time`), a one-time reminder "
            "(`at`) or a recurring one (`rrule` anchored at `at`), to `recipients`, the event's attendees or host, "
            "every member or the workspace's Slack channel. Invalid input is refused with 400 naming the field "
            "(`invalid_rrule`, `in_the_past`, `offset_after_event`, `invalid_recipient`, `opted_out`, "
            f"`event_cancelled`, …) and nothing is written. `next_run_at` comes back computed. {WRITE}"
        ),
    ),
    partial_update=extend_schema(
        summary="Update a reminder",
        description=(
            "Changes the given fields and recomputes `next_run_at`; `active: false` pauses. The birthday digest "
            f"takes only `name`, `active`, `channels` (slack, email), `at_time` and `personal_greetings`. {WRITE}"
        ),
    ),
    destroy=extend_schema(
        summary="Delete a reminder",
        description=(
            "Deletes the reminder; notifications it sent stay in the history. The birthday digest cannot be "
            f"deleted (409 `digest_not_deletable`): pause it instead. {WRITE}"
        ),
        responses={204: NO_CONTENT, 409: CONFLICT},
    ),
)
@extend_schema(tags=["reminders"], parameters=[WORKSPACE_ID])
class ReminderViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    queryset = Reminder.objects.all()
    serializer_class = ReminderSerializer
    filterset_class = ReminderFilterSet
    lookup_value_converter = "uuid"
    http_method_names = NO_PUT
    search_fields = ("name",)
    ordering_fields = ("next_run_at", "created_at", "name")
    ordering = ("next_run_at", "created_at", "id")

    def get_scoped_queryset(self):
        return Reminder.objects.select_related("workspace").with_recipients()

    def perform_create(self, serializer):
        serializer.instance = services.reminder_create(
            workspace=self.workspace, created_by=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.reminder_update(reminder=serializer.instance, data=serializer.validated_data)

    def perform_destroy(self, instance):
        services.reminder_delete(reminder=instance)
