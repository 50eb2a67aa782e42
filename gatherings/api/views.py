"""A gathering's shared costs in the workspace API. Every view inherits ``WorkspaceScopedMixin``;
writes call ``gatherings.services``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from birthdaybuddy.api.schema import CONFLICT, NO_CONTENT
from birthdaybuddy.errors import PermissionDeniedError
from events.models import Event
from events.services import event_may_edit
from gatherings import checklist, files, selectors, services, thread
from gatherings.api.serializers import (
    CommentEditSerializer,
    CommentInputSerializer,
    CommentSerializer,
    CostSummarySerializer,
    CurrencyInputSerializer,
    EventFileSerializer,
    ExpenseInputSerializer,
    ExpenseSerializer,
    FileUploadSerializer,
    SettlementInputSerializer,
    SettlementSerializer,
    TaskInputSerializer,
    TaskSerializer,
)
from gatherings.models import Comment, EventFile, Expense, ExpenseShare, Settlement, Task
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.models import Role

ALL_ROLES = frozenset(Role.values)
ANY_MEMBER = "**Permissions:** any member of the workspace (staff: any workspace)."
AUTHOR_OR_ORGANISER = (
    "**Permissions:** whoever recorded it, workspace owners and admins (and staff), and the event's host."
)
ORGANISERS = "**Permissions:** workspace owners and admins (and staff), and the event's host."
COSTS_CONFLICT = CONFLICT
GATHERING_RULES = (
    "Gatherings only (400 `not_a_gathering`); a cancelled event refuses changes (409 `event_cancelled`). "
    "Participants are the event's attendees and its host's person; anyone else is refused (400 "
    "`unknown_participant`, naming the field). Every change is recorded in the audit log."
)


def _event_in(workspace, event_id) -> Event:
    event = Event.objects.select_related("workspace").filter(workspace=workspace, pk=event_id).first()
    if event is None:
        raise ValidationError({"event": ["No such event in this workspace."]})
    return event


class _ByEventFilterSet(filters.FilterSet):
    event = filters.UUIDFilter(field_name="event", help_text="Only this event's records.")


class ExpenseFilterSet(_ByEventFilterSet):
    class Meta:
        model = Expense
        fields = ("event",)


class SettlementFilterSet(_ByEventFilterSet):
    class Meta:
        model = Settlement
        fields = ("event",)


def _require_author_or_organiser(view: Any, record: Expense | Settlement | Task) -> None:
    """Whoever recorded it, owners/admins (and staff) and the event's host may change or delete a record."""
    user = view.request.user
    if record.created_by_id is not None and record.created_by_id == user.pk:
        return
    if event_may_edit(event=record.event, user=user, role=view.role):
        return
    raise PermissionDeniedError(
        "Only whoever recorded this, a workspace owner or admin, or the event's host can change it.",
        code="role_required",
    )


@extend_schema_view(
    list=extend_schema(summary="List expenses", description=f"{ANY_MEMBER} Filter by `event`."),
    retrieve=extend_schema(summary="Get an expense", description=ANY_MEMBER),
    create=extend_schema(
        summary="Record an expense of a gathering",
        description=f"{ANY_MEMBER}\n\n{GATHERING_RULES} `split`: `equal` (the leftover cents go one each to the "
        "first participants, in the order given), `shares` (proportional to whole-number `shares`, largest "
        "remainder first), `exact` (each participant's `amount`; they must add up to the expense's amount, else "
        "400 `split_mismatch`). Amounts above 10,000,000 units, zero, negative ones or with more decimals than the "
        "currency has are refused (400 naming the field). The first expense fixes the event's currency (default "
        "EUR; set it before with `PATCH …/events/{id}/costs`).",
        request=ExpenseInputSerializer,
        responses={201: ExpenseSerializer, 409: COSTS_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change an expense",
        description=f"{AUTHOR_OR_ORGANISER}\n\nAny field of the create body except `event`; the parts are worked "
        "out again (with the stored participants if `participants` is not sent).",
        request=ExpenseInputSerializer(partial=True),
        responses={200: ExpenseSerializer, 409: COSTS_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Delete an expense",
        description=f"{AUTHOR_OR_ORGANISER} The audit log keeps what it was.",
        responses={204: NO_CONTENT, 409: COSTS_CONFLICT},
    ),
)
@extend_schema(tags=["gathering costs"], parameters=[WORKSPACE_ID])
class ExpenseViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Expense.objects.all()
    serializer_class = ExpenseSerializer
    filterset_class = ExpenseFilterSet
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_roles = {"create": ALL_ROLES, "partial_update": ALL_ROLES, "destroy": ALL_ROLES}

    def get_scoped_queryset(self):
        shares = Prefetch("shares", queryset=ExpenseShare.objects.order_by("position"))
        return (
            Expense.objects.select_related("event", "event__cost_ledger", "paid_by", "receipt")
            .prefetch_related(shares)
            .order_by("created_at", "id")
        )

    def _fresh(self, expense: Expense) -> Expense:
        return self.get_queryset().get(pk=expense.pk)

    def create(self, request, *args, **kwargs):
        payload = ExpenseInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        event = _event_in(self.workspace, data.pop("event"))
        expense = services.expense_create(event=event, actor=request.user, data=data)
        return Response(self.get_serializer(self._fresh(expense)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        expense = self.get_object()
        _require_author_or_organiser(self, expense)
        payload = ExpenseInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "event" in data and data.pop("event") != expense.event_id:
            raise ValidationError({"event": ["An expense cannot move to another event."]})
        expense = services.expense_update(expense=expense, actor=request.user, data=data)
        return Response(self.get_serializer(self._fresh(expense)).data)

    def perform_destroy(self, instance):
        _require_author_or_organiser(self, instance)
        services.expense_delete(expense=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(summary="List settlements", description=f"{ANY_MEMBER} Filter by `event`."),
    retrieve=extend_schema(summary="Get a settlement", description=ANY_MEMBER),
    create=extend_schema(
        summary="Mark a payment between two participants as made",
        description=f"{ANY_MEMBER}\n\n{GATHERING_RULES} The balances count it at once: the payer's debt shrinks "
        "and the payee's credit with it.",
        request=SettlementInputSerializer,
        responses={201: SettlementSerializer, 409: COSTS_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Take back a settlement recorded by mistake",
        description=f"{AUTHOR_OR_ORGANISER} The audit log keeps it.",
        responses={204: NO_CONTENT, 409: COSTS_CONFLICT},
    ),
)
@extend_schema(tags=["gathering costs"], parameters=[WORKSPACE_ID])
class SettlementViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Settlement.objects.all()
    serializer_class = SettlementSerializer
    filterset_class = SettlementFilterSet
    lookup_value_converter = "uuid"
    action_roles = {"create": ALL_ROLES, "destroy": ALL_ROLES}

    def get_scoped_queryset(self):
        return Settlement.objects.select_related("event", "event__cost_ledger").order_by("created_at", "id")

    def create(self, request, *args, **kwargs):
        payload = SettlementInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        event = _event_in(self.workspace, data.pop("event"))
        settlement = services.settlement_create(event=event, actor=request.user, data=data)
        fresh = self.get_queryset().get(pk=settlement.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        _require_author_or_organiser(self, instance)
        services.settlement_delete(settlement=instance, actor=self.request.user)


@extend_schema_view(
    get=extend_schema(
        summary="A gathering's balances and the transfers that settle them",
        description=f"{ANY_MEMBER}\n\nPer participant (attendees, the host's person, and anyone who paid or "
        "owes): what they paid, what they owe and their balance (paid - owed, with recorded settlements; the "
        "balances sum to zero). `transfers`: who pays whom to settle everyone — greedy, the largest debtor pays "
        "the largest creditor, which needs at most one transfer fewer than the people with a balance. Amounts "
        "both as text in major units and as integers in minor units.",
        responses={200: CostSummarySerializer},
    ),
    patch=extend_schema(
        summary="Set a gathering's currency",
        description=f"{ORGANISERS}\n\nAn ISO 4217 code (400 `invalid_currency`). Refused once an expense or a "
        "settlement is recorded (409 `currency_locked`). " + GATHERING_RULES,
        request=CurrencyInputSerializer,
        responses={200: CostSummarySerializer, 409: COSTS_CONFLICT},
    ),
)
@extend_schema(tags=["gathering costs"], parameters=[WORKSPACE_ID])
class EventCostsView(WorkspaceScopedMixin, generics.GenericAPIView):
    queryset = Event.objects.all()
    serializer_class = CostSummarySerializer
    lookup_value_converter = "uuid"
    http_method_names = ["get", "patch", "head", "options"]
    action_roles = {}

    def required_roles(self):
        return ALL_ROLES

    def get(self, request, *args, **kwargs):
        event = self.get_object()
        return Response(CostSummarySerializer(selectors.event_costs(event=event)).data)

    def patch(self, request, *args, **kwargs):
        event = self.get_object()
        if not event_may_edit(event=event, user=request.user, role=self.role):
            raise PermissionDeniedError(
                "Only a workspace owner or admin, or the event's host, can set the currency.", code="role_required"
            )
        payload = CurrencyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.cost_currency_set(event=event, currency=payload.validated_data["currency"], actor=request.user)
        return Response(CostSummarySerializer(selectors.event_costs(event=event)).data)


class TaskFilterSet(_ByEventFilterSet):
    class Meta:
        model = Task
        fields = ("event", "done", "assignee")


@extend_schema_view(
    list=extend_schema(
        summary="List checklist items", description=f"{ANY_MEMBER} Filter by `event`, `done`, `assignee`."
    ),
    retrieve=extend_schema(summary="Get a checklist item", description=ANY_MEMBER),
    create=extend_schema(
        summary="Add a task or something to bring to a gathering",
        description=f"{ANY_MEMBER}\n\n{GATHERING_RULES} While an item has an `assignee` and a `due_on` and is not "
        "`done`, the assignee gets a reminder through the reminders pipeline the day before at the workspace's "
        "`notify_at` (or on the due day if that has passed), on their own channels, respecting quiet hours and "
        "opt-outs, once. `due_on` in the past: 400 `in_the_past`.",
        request=TaskInputSerializer,
        responses={201: TaskSerializer, 409: COSTS_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change a checklist item (assign, reschedule, tick off)",
        description=f"{ANY_MEMBER} The reminder follows: moved with the due date, re-addressed with the assignee, "
        "paused when the item is done or unassigned.",
        request=TaskInputSerializer(partial=True),
        responses={200: TaskSerializer, 409: COSTS_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Delete a checklist item",
        description=f"{AUTHOR_OR_ORGANISER} Its reminder goes with it.",
        responses={204: NO_CONTENT, 409: COSTS_CONFLICT},
    ),
)
@extend_schema(tags=["gathering tasks"], parameters=[WORKSPACE_ID])
class TaskViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_roles = {"create": ALL_ROLES, "partial_update": ALL_ROLES, "destroy": ALL_ROLES}

    def get_scoped_queryset(self):
        return Task.objects.select_related("event", "assignee", "reminder").order_by(
            "done", "due_on", "created_at", "id"
        )

    def create(self, request, *args, **kwargs):
        payload = TaskInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        event = _event_in(self.workspace, data.pop("event"))
        task = checklist.task_create(event=event, data=data, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        task = self.get_object()
        payload = TaskInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "event" in data and data.pop("event") != task.event_id:
            raise ValidationError({"event": ["A task cannot move to another event."]})
        task = checklist.task_update(task=task, data=data, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)

    def perform_destroy(self, instance):
        _require_author_or_organiser(self, instance)
        checklist.task_delete(task=instance, actor=self.request.user)


class CommentFilterSet(_ByEventFilterSet):
    class Meta:
        model = Comment
        fields = ("event",)


@extend_schema_view(
    list=extend_schema(
        summary="List comments",
        description=f"{ANY_MEMBER} Filter by `event`. Hidden comments are listed for organisers only "
        "(owners/admins and the event's host).",
    ),
    retrieve=extend_schema(summary="Get a comment", description=ANY_MEMBER),
    create=extend_schema(
        summary="Comment on a gathering",
        description=f"{ANY_MEMBER}\n\nGatherings only (400 `not_a_gathering`); a cancelled event refuses "
        "comments (409 `event_cancelled`). Guests comment from their page.",
        request=CommentInputSerializer,
        responses={201: CommentSerializer, 409: COSTS_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Edit your comment",
        description="**Permissions:** its author only (403 `not_the_author`).",
        request=CommentEditSerializer,
        responses={200: CommentSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a comment",
        description=f"{AUTHOR_OR_ORGANISER.replace('whoever recorded it', 'its author')}",
        responses={204: NO_CONTENT},
    ),
    hide=extend_schema(
        summary="Hide a comment (moderation)",
        description=f"{ORGANISERS} Hidden comments are shown to organisers only.",
        request=None,
        responses={200: CommentSerializer},
    ),
    show=extend_schema(
        summary="Show a hidden comment again",
        description=ORGANISERS,
        request=None,
        responses={200: CommentSerializer},
    ),
)
@extend_schema(tags=["gathering comments"], parameters=[WORKSPACE_ID])
class CommentViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Comment.objects.all()
    serializer_class = CommentSerializer
    filterset_class = CommentFilterSet
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_roles = {
        "create": ALL_ROLES,
        "partial_update": ALL_ROLES,
        "destroy": ALL_ROLES,
        "hide": ALL_ROLES,
        "show": ALL_ROLES,
    }

    def get_scoped_queryset(self):
        comments = Comment.objects.select_related("event", "author_user", "author_person").order_by("created_at", "id")
        if getattr(self, "swagger_fake_view", False) or self.is_workspace_admin:
            return comments
        user = self.request.user
        return comments.filter(Q(hidden=False) | Q(event__host=user))

    def _require_organiser(self, comment: Comment) -> None:
        if not event_may_edit(event=comment.event, user=self.request.user, role=self.role):
            raise PermissionDeniedError(
                "Only a workspace owner or admin, or the event's host, can moderate comments.", code="role_required"
            )

    def create(self, request, *args, **kwargs):
        payload = CommentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = _event_in(self.workspace, payload.validated_data["event"])
        comment = thread.comment_post(event=event, body=payload.validated_data["body"], user=request.user)
        fresh = self.get_queryset().get(pk=comment.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        comment = self.get_object()
        payload = CommentEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        comment = thread.comment_edit(comment=comment, body=payload.validated_data["body"], user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)

    def perform_destroy(self, instance):
        moderator = event_may_edit(event=instance.event, user=self.request.user, role=self.role)
        thread.comment_delete(comment=instance, user=self.request.user, moderator=moderator)

    @action(detail=True, methods=["post"], filter_backends=[])
    def hide(self, request, *args, **kwargs):
        comment = self.get_object()
        self._require_organiser(comment)
        comment = thread.comment_hide(comment=comment, hidden=True, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)

    @action(detail=True, methods=["post"], filter_backends=[])
    def show(self, request, *args, **kwargs):
        comment = self.get_object()
        self._require_organiser(comment)
        comment = thread.comment_hide(comment=comment, hidden=False, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)


class EventFileFilterSet(_ByEventFilterSet):
    class Meta:
        model = EventFile
        fields = ("event",)


@extend_schema_view(
    list=extend_schema(summary="List a gathering's photos and files", description=f"{ANY_MEMBER} Filter by `event`."),
    retrieve=extend_schema(summary="Get a photo or file", description=ANY_MEMBER),
    create=extend_schema(
        summary="Upload a photo or a PDF to a gathering",
        description=f"{ANY_MEMBER}\n\n`multipart/form-data` with `event` and `file`. The type is read from the "
        "content, not the name: JPEG, PNG, GIF, WebP or PDF (400 `unsupported_type`; `damaged`; `empty`; "
        "`too_large` above 10 MB or 40 megapixels). Images are stored re-encoded without metadata (no EXIF "
        "location) with a thumbnail. `url`/`thumbnail_url` are signed and expire after an hour.",
        request={"multipart/form-data": FileUploadSerializer},
        responses={201: EventFileSerializer, 409: COSTS_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Delete a photo or file",
        description="**Permissions:** its uploader, workspace owners and admins (and staff), and the event's host.",
        responses={204: NO_CONTENT},
    ),
)
@extend_schema(tags=["gathering files"], parameters=[WORKSPACE_ID])
class EventFileViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = EventFile.objects.all()
    serializer_class = EventFileSerializer
    filterset_class = EventFileFilterSet
    lookup_value_converter = "uuid"
    parser_classes = (MultiPartParser, FormParser, JSONParser)
    action_roles = {"create": ALL_ROLES, "destroy": ALL_ROLES}

    def get_scoped_queryset(self):
        return EventFile.objects.select_related("event").order_by("-created_at", "id")

    def create(self, request, *args, **kwargs):
        payload = FileUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = _event_in(self.workspace, payload.validated_data["event"])
        record = files.file_upload(event=event, upload=payload.validated_data["file"], user=request.user)
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        moderator = event_may_edit(event=instance.event, user=self.request.user, role=self.role)
        files.file_delete(record=instance, user=self.request.user, moderator=moderator)
