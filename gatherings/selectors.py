"""Reads with a rule in them: who takes part in an event's costs, and its balances and transfers.

:func:`event_costs` answers in a constant number of queries whatever the number of
participants and expenses: the sums are grouped in the database, the arithmetic is
:mod:`gatherings.ledger`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from events.models import Attendee, Event
from gatherings import ledger
from gatherings.models import CostLedger, Expense, ExpenseShare, Settlement
from workspaces.models import Person

DEFAULT_CURRENCY = "EUR"


def default_currency() -> str:
    return getattr(settings, "GATHERINGS_DEFAULT_CURRENCY", DEFAULT_CURRENCY)


def event_participants(*, event: Event) -> QuerySet[Person]:
    """The people who take part in an event's plans: its attendees and the host's person."""
    condition = Q(pk__in=Attendee.objects.filter(event=event).values("person_id"))
    if event.host_id is not None:
        condition |= Q(user_id=event.host_id)
    return Person.objects.filter(condition, workspace_id=event.workspace_id).order_by("name", "id")


def event_currency(*, event: Event) -> str:
    ledger_row = CostLedger.objects.filter(event=event).only("currency").first()
    return ledger_row.currency if ledger_row is not None else default_currency()


@dataclass
class CostSummary:
    """An event's costs: totals and balances in minor units, and the transfers that settle them."""

    currency: str
    total_minor: int
    expense_count: int
    settlement_count: int
    participants: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)


def _sums(queryset, key: str) -> tuple[dict, int]:
    """``({key: sum of amount_minor}, number of rows)`` in one grouped query."""
    rows = list(queryset.values(key).annotate(total=Sum("amount_minor"), rows=Count("pk")))
    return {row[key]: row["total"] or 0 for row in rows}, sum(row["rows"] for row in rows)


def _total(queryset) -> tuple[int, int]:
    row = queryset.aggregate(total=Sum("amount_minor"), rows=Count("pk"))
    return row["total"] or 0, row["rows"]


def event_costs(*, event: Event) -> CostSummary:
    """Balances per participant (paid - owed, settlements counted) and the transfers that settle them.

    Everyone who took part in the plan is listed, with a zero balance if nothing concerns
    them; a person who paid or owes but has since left the guest list is listed too.
    """
    currency = event_currency(event=event)
    expenses = Expense.objects.filter(event=event)
    # What someone paid counts as the sum of its parts, not the expense's amount: the two are
    # equal by construction, and if a share's person was deleted (erasure) the balances still sum to zero.
    shares = ExpenseShare.objects.filter(expense__event=event).order_by()
    paid, _ = _sums(shares, "expense__paid_by_id")
    owed, _ = _sums(shares, "person_id")
    total, expense_count = _total(expenses.order_by())
    settlements = Settlement.objects.filter(event=event).order_by()
    sent, settlement_count = _sums(settlements, "payer_id")
    received, _ = _sums(settlements, "payee_id")
    balance_of: dict[Any, int] = ledger.balances(paid=paid, owed=owed, sent=sent, received=received)

    people = list(event_participants(event=event).only("id", "name"))
    listed = {person.pk for person in people}
    missing = set(balance_of) - listed
    if missing:
        people += list(Person.objects.filter(pk__in=missing).only("id", "name").order_by("name", "id"))
    names: dict[Any, str] = {person.pk: person.name for person in people}
    order = [person.pk for person in people]
    transfers = ledger.settle(balance_of, order=order)

    def money(minor: int) -> str:
        return ledger.to_major(minor, currency=currency)

    return CostSummary(
        currency=currency,
        total_minor=total,
        expense_count=expense_count,
        settlement_count=settlement_count,
        participants=[
            {
                "person": pk,
                "name": names[pk],
                "paid_minor": paid.get(pk, 0),
                "owed_minor": owed.get(pk, 0),
                "balance_minor": balance_of.get(pk, 0),
                "paid": money(paid.get(pk, 0)),
                "owed": money(owed.get(pk, 0)),
                "balance": money(balance_of.get(pk, 0)),
            }
            for pk in order
        ],
        transfers=[
            {
                "payer": transfer.payer,
                "payer_name": names.get(transfer.payer, ""),
                "payee": transfer.payee,
                "payee_name": names.get(transfer.payee, ""),
                "amount_minor": transfer.amount,
                "amount": money(transfer.amount),
            }
            for transfer in transfers
        ],
    )
