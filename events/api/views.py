"""Events of a workspace (calendar feeds: ``feed_views.py``). Every view inherits
``WorkspaceScopedMixin``; writes call services."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db.models import DateTimeField, Prefetch
from django.db.models.functions import Cast, Coalesce
from django.http import HttpResponse
from django.utils import timezone as dj_timezone
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from birthdaybuddy.api.schema import NO_CONTENT
from birthdaybuddy.errors import PermissionDeniedError
from events import guest_messages, guests, polls, rsvp, selectors, services
from events.api.filters import EventFilterSet
from events.api.poll_serializers import PollFixSerializer, PollOpenSerializer, PollTableSerializer, PollVoteInSerializer
from events.api.serializers import (
    AttendeeSerializer,
    EventSerializer,
    GuestMessageSerializer,
    GuestMessageWrittenSerializer,
    InvitationResentSerializer,
)
from events.api.window import parse_window
from events.models import Attendee, Event, EventStatus
from events.selectors import MAX_WINDOW_DAYS
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.models import Role

ALL_ROLES = frozenset(Role.values)
NO_PUT = ("get", "post", "patch", "delete", "head", "options")

ANY_MEMBER = "**Permissions:** any member of the workspace (staff: any workspace)."
WRITERS = "**Permissions:** workspace owners and admins (and staff)."
EDITORS = (
    "**Permissions:** workspace owners and admins (and staff); a member may also change or cancel an event "
    "they host (but not hand it to another host)."
)
ORGANISERS = "**Permissions:** workspace owners and admins (and staff), and the event's host and co-hosts."

PERSON_ID = OpenApiParameter(
    "person_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The attendee's person id."
)
RESEND_CONFLICT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="`event_cancelled` / `event_over`: the event was cancelled or is over; `attendee_unreachable`: "
    "no channel reaches the person (no address for their preferred channels, or they opted out of them); "
    "`resend_in_progress`: another re-send for this attendee was written at the same moment.",
)
HOST_CONFLICT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="`host_conflict`: the host already has an active appointment at that time. `conflict` is that "
    "event (Event JSON) and `conflict_occurrence` its overlapping occurrence; `event_cancelled`: a cancelled "
    "event cannot change.",
)
WINDOW_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.STR,
        description="Calendar mode: window start, a date (`YYYY-MM-DD`, local day) or an ISO 8601 date-time "
        "(with an offset, or naive = the workspace's zone). Default: now.",
    ),
    OpenApiParameter(
        "to",
        OpenApiTypes.STR,
        description="Calendar mode: window end (a date is included; a date-time is exclusive). Default: 31 days "
        f"after `from`; at most {MAX_WINDOW_DAYS} days after it.",
    ),
]

EVENT_RULES = (
    "Times: `starts_at`/`ends_at` with an offset, or without one meaning the workspace's time zone; an all-day "
    "event has a `date` instead. The end must be after the start. `rrule` (RFC 5545, e.g. `FREQ=WEEKLY;BYDAY=MO`) "
    "repeats the event in the workspace's wall-clock time; its start must be the rule's first occurrence; at "
    "most daily; unbounded rules are allowed. `host` must be a member; `attendees` people of this workspace. "
    "Appointments are timed with an end, a host and at least one attendee, and the host may not have another "
    "active appointment overlapping it (409 `host_conflict`; recurring appointments are checked over the next "
    "12 months). Gathering attendees are sent an invitation with a personal RSVP link."
)


@extend_schema_view(
    list=extend_schema(
        summary="List events (or a calendar)",
        description=f"{ANY_MEMBER}\n\nFilter by `kind`, `status`, `host` (a member's user id) and `attendee` "
        "(a person id); search `title`/`location`; order by `starts_at`, `date`, `created_at` or `title` "
        "(default: by start, all-day events by their date).\n\n"
        "**Calendar mode** (`from` and/or `to`, e.g. `?host=<user id>&from=2026-03-01&to=2026-03-31` for a "
        "member's calendar): only events with an occurrence in the window, each with `occurrences` listing them "
        "(recurring events expanded in the workspace's zone, DST-aware), ordered by first occurrence; only "
        "active events unless `status` is given. Outside calendar mode `occurrences` is null.",
        parameters=WINDOW_PARAMETERS,
    ),
    retrieve=extend_schema(
        summary="Get an event",
        description=f"{ANY_MEMBER} `rsvp_counts` is shown to owners/admins and the host.",
    ),
    create=extend_schema(
        summary="Create an event",
        description=f"{WRITERS}\n\n{EVENT_RULES}",
        responses={201: EventSerializer, 409: HOST_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change an event",
        description=f"{EDITORS}\n\nThe same rules as on create. Changing a gathering's time or place re-notifies "
        "attendees who answered yes or maybe; new attendees of a gathering are invited. A cancelled event "
        "cannot change (409 `event_cancelled`).",
        responses={200: EventSerializer, 409: HOST_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Cancel an event",
        description=f"{EDITORS}\n\nCancels the event: it stays (with `status` `cancelled`) for history, its "
        "RSVP links answer 410 `event_cancelled`, its reminders stop, and attendees of a gathering who had "
        "not declined are told. Cancelling twice is harmless.",
        responses={204: NO_CONTENT},
    ),
    attendees=extend_schema(
        summary="List an event's attendees and their answers",
        description=f"{ORGANISERS} Members who do not host the event get 403.",
        responses={200: AttendeeSerializer(many=True)},
    ),
)
@extend_schema(tags=["events"], parameters=[WORKSPACE_ID])
class EventViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    queryset = Event.objects.all()
    serializer_class = EventSerializer
    filterset_class = EventFilterSet
    lookup_value_converter = "uuid"
    http_method_names = NO_PUT
    search_fields = ("title", "location")
    ordering_fields = ("starts_at", "date", "created_at", "title")
    # The view's own default order (by start or date) is set in get_scoped_queryset.
    ordering = None
    # Hosts who are plain members may change and cancel their own events (checked per object).
    action_roles = {
        "partial_update": ALL_ROLES,
        "destroy": ALL_ROLES,
        "attendees": ALL_ROLES,
        "resend_invitation": ALL_ROLES,
        "check_in": ALL_ROLES,
        "check_out": ALL_ROLES,
        "guests_csv": ALL_ROLES,
        "poll": ALL_ROLES,
        "poll_open": ALL_ROLES,
        "poll_vote": ALL_ROLES,
        "poll_fix": ALL_ROLES,
        "guest_message": ALL_ROLES,
    }

    def get_scoped_queryset(self):
        attendances = Prefetch("attendances", queryset=Attendee.objects.only("id", "event_id", "person_id"))
        return (
            Event.objects.with_rsvp_counts()
            .prefetch_related(attendances, "cohosts")
            .annotate(sort_at=Coalesce("starts_at", Cast("date", DateTimeField())))
            .order_by("sort_at", "id")
        )

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        window = parse_window(request.query_params, tz=ZoneInfo(self.workspace.timezone), now=dj_timezone.now())
        if window is None:
            return super().list(request, *args, **kwargs)
        if "status" not in request.query_params:
            queryset = queryset.filter(status=EventStatus.ACTIVE)
        start, end = window
        events = selectors.event_list_in_window(queryset=queryset, workspace=self.workspace, start=start, end=end)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _fresh(self, event: Event) -> Event:
        return self.get_queryset().get(pk=event.pk)

    def _conflict_body(self, exc: services.HostConflict) -> None:
        other = self.get_queryset().filter(pk=exc.event.pk).first() or exc.event
        exc.extra = {"conflict": self.get_serializer(other).data, **exc.extra}

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = services.event_create(
                workspace=self.workspace, created_by=request.user, data=serializer.service_data()
            )
        except services.HostConflict as exc:
            self._conflict_body(exc)
            raise
        return Response(self.get_serializer(self._fresh(event)).data, status=status.HTTP_201_CREATED)

    def _require_editor(self, event: Event) -> None:
        if not services.event_may_edit(event=event, user=self.request.user, role=self.role):
            raise PermissionDeniedError(
                "Only a workspace owner or admin, or the event's host or a co-host, can change this event.",
                code="role_required",
            )

    def partial_update(self, request, *args, **kwargs):
        event = self.get_object()
        self._require_editor(event)
        serializer = self.get_serializer(event, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.service_data()
        if not self.is_workspace_admin and "host" in data and data["host"] != event.host_id:
            raise PermissionDeniedError(
                "Only a workspace owner or admin can hand an event to another host.", code="role_required"
            )
        if not self.is_workspace_admin and "cohosts" in data and event.host_id != request.user.pk:
            raise PermissionDeniedError(
                "Only a workspace owner or admin, or the event's host, can choose its co-hosts.", code="role_required"
            )
        try:
            event = services.event_update(event=event, data=data)
        except services.HostConflict as exc:
            self._conflict_body(exc)
            raise
        return Response(self.get_serializer(self._fresh(event)).data)

    def perform_destroy(self, instance):
        self._require_editor(instance)
        services.event_cancel(event=instance)

    @action(detail=True, methods=["get"], filter_backends=[])
    def attendees(self, request, *args, **kwargs):
        event = self.get_object()
        if not services.event_may_edit(event=event, user=request.user, role=self.role):
            raise PermissionDeniedError(
                "Only a workspace owner or admin, or the event's host, can see the answers.", code="role_required"
            )
        rows = Attendee.objects.filter(event=event).select_related("person").order_by("person__name", "id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AttendeeSerializer(page, many=True).data)

    @extend_schema(
        summary="Check a guest in at the door",
        description=f"{ORGANISERS}\n\nRecords that the attendee arrived (`checked_in_at`, now); checking in "
        "again moves the time. 404 `not_an_attendee`; 409 `event_cancelled`.",
        parameters=[PERSON_ID],
        request=None,
        responses={200: AttendeeSerializer},
    )
    def check_in(self, request, *args, **kwargs):
        # Routed in events/api/urls.py (…/attendees/<person_id>/check-in, no trailing slash).
        event = self.get_object()
        self._require_editor(event)
        attendee = guests.attendee_check_in(event=event, person_id=kwargs["person_id"], checked_in=True)
        return Response(AttendeeSerializer(attendee).data)

    @extend_schema(
        summary="Undo a guest's check-in",
        description=f"{ORGANISERS}\n\nClears `checked_in_at` (a guest checked in by mistake). 404 "
        "`not_an_attendee`; 409 `event_cancelled`.",
        parameters=[PERSON_ID],
        request=None,
        responses={200: AttendeeSerializer},
    )
    def check_out(self, request, *args, **kwargs):
        event = self.get_object()
        self._require_editor(event)
        attendee = guests.attendee_check_in(event=event, person_id=kwargs["person_id"], checked_in=False)
        return Response(AttendeeSerializer(attendee).data)

    @extend_schema(
        summary="Download the guest list as CSV",
        description=f"{ORGANISERS}\n\nOne row per attendee, ordered by name: `name`, `email`, `answer`, `seat` "
        "(`going`, `waitlisted`, `offered` or empty), `plus_ones`, `plus_one_names` (`; `-separated), `note`, "
        "`responded_at`, `checked_in_at` (UTC, ISO 8601). Cells a spreadsheet would evaluate as formulas "
        "start with `'`.",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def guests_csv(self, request, *args, **kwargs):
        # Routed in events/api/urls.py (…/events/<id>/guests.csv, no trailing slash).
        event = self.get_object()
        self._require_editor(event)
        response = HttpResponse(guests.guest_list_csv(event), content_type="text/csv; charset=utf-8")
        filename = slugify(event.title) or "guests"
        response["Content-Disposition"] = f'attachment; filename="{filename}-guests.csv"'
        response["Cache-Control"] = "private, no-store"
        return response

    @extend_schema(
        summary="Read the date poll",
        description=f"{ANY_MEMBER}\n\nThe options (dates or time slots) with their yes / if need be / no "
        "tallies, and each voter's choices and time zone. Without a poll: `status` is empty and there are no "
        "options.",
        responses={200: PollTableSerializer},
    )
    def poll(self, request, *args, **kwargs):
        # Routed in events/api/urls.py (…/events/<id>/poll, GET and POST, no trailing slash).
        event = self.get_object()
        return Response(PollTableSerializer(polls.poll_table(event)).data)

    @extend_schema(
        summary="Open a date poll",
        description=f"{ORGANISERS}\n\nGatherings only. Proposes 2 to 30 options, each a `date` (all-day) or a "
        "`starts_at` with an optional `ends_at` (naive = the workspace's zone). Invited guests vote from their "
        "page, members here. 400 for a bad, duplicate or missing option (`options`); 409 `poll_exists` (one "
        "poll per event), `event_cancelled`.",
        request=PollOpenSerializer,
        responses={201: PollTableSerializer},
    )
    def poll_open(self, request, *args, **kwargs):
        event = self.get_object()
        self._require_editor(event)
        payload = PollOpenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        polls.poll_open(event=event, options=[dict(option) for option in payload.validated_data["options"]])
        event.refresh_from_db()
        return Response(PollTableSerializer(polls.poll_table(event)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Vote in the date poll",
        description=f"{ANY_MEMBER}\n\n`votes`: option id → `yes`, `ifneedbe` or `no`; voting again changes "
        "the vote. `time_zone`: the voter's zone, shown in the table (default: the workspace's). 400 for an "
        "option of another poll (`votes`) or an unknown zone; 409 `poll_closed` once the date is fixed, "
        "`no_poll`. Nothing is written then.",
        request=PollVoteInSerializer,
        responses={200: PollTableSerializer},
    )
    def poll_vote(self, request, *args, **kwargs):
        event = self.get_object()
        payload = PollVoteInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        polls.poll_vote(
            event=event,
            votes=payload.validated_data["votes"],
            time_zone=payload.validated_data.get("time_zone"),
            user=request.user,
        )
        return Response(PollTableSerializer(polls.poll_table(event)).data)

    @extend_schema(
        summary="Fix the date from the poll",
        description=f"{ORGANISERS}\n\nThe option becomes the event's time (a date: all-day; a slot: its start "
        "and end), the poll closes, and every invited guest who has not declined is told the date with the "
        "calendar entry (`.ics` by email). 400 `option` (not an option of this poll); 409 `poll_closed`, "
        "`no_poll`, `event_cancelled`.",
        request=PollFixSerializer,
        responses={200: EventSerializer},
    )
    def poll_fix(self, request, *args, **kwargs):
        event = self.get_object()
        self._require_editor(event)
        payload = PollFixSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = polls.poll_fix(event=event, option_id=payload.validated_data["option"])
        return Response(self.get_serializer(self._fresh(event)).data)

    @extend_schema(
        summary="Write to the guests",
        description=f"{ORGANISERS}\n\nGatherings only. Writes `message` to the guests in the groups `to` "
        "(by answer: `pending`, `yes`, `maybe`, `no`; by place: `going`, `waitlisted`), as they stand now, at "
        "`at` or now. It is a one-time reminder to those people, so it goes through the reminders' pipeline: "
        "quiet hours, each guest's channel and opt-outs, one notification each, the history. 400 for an unknown "
        "group, an empty text or a time in the past; 409 `no_recipients`, `not_a_gathering`, `event_cancelled`.",
        request=GuestMessageSerializer,
        responses={201: GuestMessageWrittenSerializer},
    )
    def guest_message(self, request, *args, **kwargs):
        # Routed in events/api/urls.py (…/events/<id>/guest-messages, no trailing slash).
        event = self.get_object()
        self._require_editor(event)
        payload = GuestMessageSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reminder, count = guest_messages.guests_message(
            event=event,
            actor=request.user,
            to=payload.validated_data["to"],
            message=payload.validated_data["message"],
            at=payload.validated_data.get("at"),
        )
        body = {"reminder": reminder.pk, "recipients": count, "at": reminder.run_at}
        return Response(GuestMessageWrittenSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send an attendee's invitation again",
        description=f"{ORGANISERS}\n\nGatherings only (400 `not_a_gathering`). Writes a new invitation for this "
        "attendee with a **new personal RSVP link** on their preferred reachable channel (as chosen today, so a "
        "corrected address is used) and queues it; the earlier invitations stay in the notification history, "
        "but their links stop working (only the token's hash is stored, so an old link cannot be sent again, "
        "and a message that went to a wrong address should not keep a working link). The attendee's answer "
        "is kept. Recorded in the audit log as `event.resend_invitation`. 404 `not_an_attendee` if the person "
        "is not an attendee of the event; 409 `event_cancelled`, `event_over` or `attendee_unreachable`.",
        parameters=[PERSON_ID],
        request=None,
        responses={201: InvitationResentSerializer, 409: RESEND_CONFLICT},
    )
    def resend_invitation(self, request, *args, **kwargs):
        # Routed in events/api/urls.py (…/attendees/<person_id>/resend-invitation, no trailing slash).
        event = self.get_object()
        self._require_editor(event)
        sent = rsvp.attendee_invitation_resend(event=event, person_id=kwargs["person_id"], actor=request.user)
        attendee = Attendee.objects.select_related("person").get(event=event, person_id=kwargs["person_id"])
        body = {
            "notification": sent.notification_id,
            "channel": sent.channel,
            "recipient": sent.recipient,
            "attendee": attendee,
        }
        return Response(InvitationResentSerializer(body).data, status=status.HTTP_201_CREATED)
