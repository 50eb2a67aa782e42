"""A gathering's shared costs in the workspace API (the checklist, comments and files:
``plan_views.py``). Every view inherits ``WorkspaceScopedMixin``; writes call ``gatherings.services``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.response import Response

from birthdaybuddy.api.schema import NO_CONTENT
from birthdaybuddy.errors import PermissionDeniedError
from events.models import Event
from events.services import event_may_edit
from gatherings import selectors, services
from gatherings.api.common import (
    ALL_ROLES,
    ANY_MEMBER,
    AUTHOR_OR_ORGANISER,
    COSTS_CONFLICT,
    GATHERING_RULES,
    ORGANISERS,
    ByEventFilterSet,
    GatheringRecordViewSet,
    event_in,
    require_author_or_organiser,
)
from gatherings.api.serializers import (
    CostSummarySerializer,
    CurrencyInputSerializer,
    ExpenseInputSerializer,
    ExpenseSerializer,
    SettlementInputSerializer,
    SettlementSerializer,
)
from gatherings.models import Expense, ExpenseShare, Settlement
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID


class ExpenseFilterSet(ByEventFilterSet):
    class Meta:
        model = Expense
        fields = ("event",)


class SettlementFilterSet(ByEventFilterSet):
    class Meta:
        model = Settlement
        fields = ("event",)


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
class ExpenseViewSet(GatheringRecordViewSet):
    queryset = Expense.objects.all()
    serializer_class = ExpenseSerializer
    filterset_class = ExpenseFilterSet

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
        event = event_in(self.workspace, data.pop("event"))
        expense = services.expense_create(event=event, actor=request.user, data=data)
        return Response(self.get_serializer(self._fresh(expense)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        expense = self.get_object()
        require_author_or_organiser(self, expense)
        payload = ExpenseInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "event" in data and data.pop("event") != expense.event_id:
            raise ValidationError({"event": ["An expense cannot move to another event."]})
        expense = services.expense_update(expense=expense, actor=request.user, data=data)
        return Response(self.get_serializer(self._fresh(expense)).data)

    def perform_destroy(self, instance):
        require_author_or_organiser(self, instance)
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
        event = event_in(self.workspace, data.pop("event"))
        settlement = services.settlement_create(event=event, actor=request.user, data=data)
        fresh = self.get_queryset().get(pk=settlement.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        require_author_or_organiser(self, instance)
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
