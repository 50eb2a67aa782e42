from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from birthdaybuddy.api.schema import CONFLICT
from reminders.models import Reminder
from scheduling import selectors, services
from scheduling.api.serializers import (
    UPCOMING_MAX_DAYS,
    JobRunSerializer,
    PreviewQuerySerializer,
    PreviewSerializer,
    RunNowInputSerializer,
    RunNowResultSerializer,
    SendNowResultSerializer,
    UpcomingEntrySerializer,
    UpcomingQuerySerializer,
)
from scheduling.models import JobRun
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.models import ADMIN_ROLES

WORKSPACE_ID = OpenApiParameter("workspace_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
REMINDER_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The reminder's id.")


def _run_detail(run: services.DigestRun, counts: services.RunCounts) -> str:
    day = run.day.isoformat()
    if run.result is None or (not run.result.planned):
        return selectors.digest_empty_reason(workspace=run.workspace, day=run.day)
    if run.dry_run:
        return f"Dry run for {day}: {len(run.result.planned) - counts.existing} message(s) would be created; " + (
            services.RunCounts(
                already_delivered=counts.already_delivered,
                already_failed=counts.already_failed,
                pending=counts.pending,
                already_skipped=counts.already_skipped,
            ).sentence()
            if counts.existing
            else "none exists yet."
        )
    if counts.created == 0:
        return f"Nothing new for {day}: {counts.sentence()}."
    return f"Digest of {day}: {counts.sentence()}."


@extend_schema(tags=["scheduling"], parameters=[WORKSPACE_ID])
class RunNowView(WorkspaceScopedMixin, generics.GenericAPIView):
    """Runs the birthday and anniversary digest for a local date now."""

    serializer_class = RunNowInputSerializer
    write_roles = ADMIN_ROLES

    @extend_schema(
        summary="Run the digest now",
        description=(
            "Runs the workspace's birthday and anniversary digest for `date` (default: the "
            "workspace's local today). With `dry_run` it lists exactly what would be sent to whom "
            "and sends nothing. Running a date twice sends nothing the second time. "
            "**Permissions:** workspace owner or admin."
        ),
        request=RunNowInputSerializer,
        responses={200: RunNowResultSerializer, 201: RunNowResultSerializer},
    )
    def post(self, request, *args, **kwargs):
        params = RunNowInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        run = services.digest_run_now(
            workspace=self.workspace,
            day=params.validated_data.get("date"),
            dry_run=params.validated_data["dry_run"],
            actor=request.user,
        )
        result = run.result
        planned = result.planned if result else []
        counts = services.run_counts(result)
        created = counts.created if not run.dry_run else 0
        would_create = len(planned) - counts.existing if run.dry_run else 0
        body = {
            "date": run.day,
            "dry_run": run.dry_run,
            "scheduled_for": result.slot.at,
            "created": created,
            "would_create": would_create,
            "already_sent": counts.existing,
            "already_delivered": counts.already_delivered,
            "already_failed": counts.already_failed,
            "pending": counts.pending,
            "already_skipped": counts.already_skipped,
            "detail": _run_detail(run, counts),
            "job_run": run.job_run.pk if run.job_run else None,
            "messages": [m.as_dict() for m in planned],
        }
        return Response(
            RunNowResultSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


@extend_schema(
    tags=["scheduling"],
    parameters=[WORKSPACE_ID],
    summary="Job runs",
    description=(
        "Ticks that handled this workspace's reminders and its manual runs, newest first, with "
        "this workspace's share of each. **Permissions:** workspace owner or admin."
    ),
)
class JobRunViewSet(WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobRunSerializer
    read_roles = ADMIN_ROLES
    ordering_fields = ("started_at",)
    ordering = ("-started_at",)
    filterset_fields = ("kind",)
    search_fields = ()

    def get_scoped_queryset(self):
        return JobRun.objects.all()


TRUNCATED_HEADER = "X-Truncated"


@extend_schema(tags=["scheduling"], parameters=[WORKSPACE_ID])
class UpcomingView(WorkspaceScopedMixin, generics.GenericAPIView):
    serializer_class = UpcomingEntrySerializer
    pagination_class = None  # a bounded window, capped at UPCOMING_LIMIT entries, returned whole
    queryset = Reminder.objects.none()  # for schema introspection only; entries come from the selector
    read_roles = ADMIN_ROLES

    @extend_schema(
        summary="Upcoming messages",
        description=(
            "Every occurrence of the workspace's active reminders — the birthday digest, event reminders, "
            "one-time and recurring messages — in the next `days` local days "
            f"(default 7, at most {UPCOMING_MAX_DAYS}), "
            "in time order: the occurrence (UTC and local), when it goes out after quiet hours, the reminder, and "
            "each message it would send (recipient, channel, text, or why a recipient is skipped). A digest day "
            "with nobody to celebrate is not listed; paused reminders and cancelled events are left out. A dry "
            f"run: nothing is written. At most {selectors.UPCOMING_LIMIT} entries, the earliest; when more fall in "
            f"the window the `{TRUNCATED_HEADER}` header says `true`. "
            "**Permissions:** workspace owner or admin."
        ),
        parameters=[
            UpcomingQuerySerializer,
            OpenApiParameter(
                TRUNCATED_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                enum=["true", "false"],
                response=[200],
                description=f"`true` when the window holds more than the {selectors.UPCOMING_LIMIT} entries listed.",
            ),
        ],
        responses={200: UpcomingEntrySerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        params = UpcomingQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        upcoming = selectors.upcoming_messages(
            workspace=self.workspace, days=data["days"], kind=data.get("kind"), reminder_id=data.get("reminder")
        )
        response = Response(UpcomingEntrySerializer(upcoming.entries, many=True).data)
        response[TRUNCATED_HEADER] = "true" if upcoming.truncated else "false"
        return response


@extend_schema(tags=["reminders"], parameters=[WORKSPACE_ID, REMINDER_ID])
class ReminderRunViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    """A reminder's manual trigger and its dry-run preview, through the same engine as the tick."""

    queryset = Reminder.objects.all()
    serializer_class = SendNowResultSerializer
    lookup_value_converter = "uuid"
    pagination_class = None
    filter_backends = ()
    action_roles = {"send_now": ADMIN_ROLES, "preview": ADMIN_ROLES}

    def get_scoped_queryset(self):
        return Reminder.objects.select_related("workspace", "event")

    @extend_schema(
        summary="Send a reminder now (an extra copy)",
        description=(
            "Sends an extra, manual copy of the reminder's upcoming occurrence — the one it is waiting for (also "
            "when held back by quiet hours), or its next — right now, through the same pipeline as the scheduler. "
            "The schedule is untouched: that occurrence still goes out at its time. A second call within a "
            "minute is refused (409 `sent_recently`), so a double click sends one copy. The birthday digest "
            "instead runs today's digest (the same messages as the scheduled run, which then sends nothing "
            "again). 409 `event_cancelled` when the event is cancelled, `no_occurrence` when nothing is left "
            "to send. **Permissions:** workspace owner or admin."
        ),
        request=None,
        responses={200: SendNowResultSerializer, 201: SendNowResultSerializer, 409: CONFLICT},
    )
    def send_now(self, request, *args, **kwargs):
        reminder = self.get_object()
        run = services.reminder_send_now(reminder=reminder, actor=request.user)
        result = run.result
        planned = result.planned
        counts = services.run_counts(result)
        created = counts.created
        body = {
            "reminder": reminder.pk,
            "occurrence": {"at": result.slot.at, "local": f"{result.slot.local:%Y-%m-%dT%H:%M}"},
            "manual_extra": run.manual_extra,
            "created": created - counts.skipped,
            "skipped": counts.skipped,
            "already_sent": counts.existing,
            "already_delivered": counts.already_delivered,
            "already_failed": counts.already_failed,
            "pending": counts.pending,
            "already_skipped": counts.already_skipped,
            "detail": services.send_now_detail(run),
            "job_run": run.job_run.pk if run.job_run else None,
            "messages": [message.as_dict() for message in planned],
        }
        return Response(
            SendNowResultSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="Preview a reminder's next occurrences",
        description=(
            "A dry run of the next `count` occurrences (default 5, at most 50): each with its UTC instant, local "
            "time, when it goes out (after quiet hours) and the messages it would send — recipient, channel, text, "
            "or why a recipient would be skipped. Nothing is written. **Permissions:** workspace owner or admin."
        ),
        parameters=[PreviewQuerySerializer],
        responses={200: PreviewSerializer},
    )
    def preview(self, request, *args, **kwargs):
        params = PreviewQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        reminder = self.get_object()
        entries = selectors.reminder_preview(reminder=reminder, count=params.validated_data["count"])
        body = {
            "reminder": reminder.pk,
            "timezone": reminder.workspace.timezone,
            "active": reminder.active,
            "occurrences": entries,
        }
        return Response(PreviewSerializer(body).data)
