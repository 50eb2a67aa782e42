"""Every write to a gathering's shared costs: the currency, expenses, settlements.

Each service runs in one transaction, locks the event's :class:`CostLedger` row first (so a
currency change and an expense, or two edits, never pass each other), checks everything
before writing, and records the change in the audit trail inside the same transaction.
Refusals are ``ValidationError`` naming the field (a 400), or ``ApplicationError`` with a
code (``not_a_gathering`` 400, ``event_cancelled`` 409, ``currency_locked`` 409).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.entries import audit_manual_send
from birthdaybuddy.errors import ApplicationError, Conflict
from events.models import Event, EventKind
from gatherings import ledger
from gatherings.models import CostLedger, EventFile, Expense, ExpenseShare, Settlement, SplitMethod
from gatherings.selectors import default_currency, event_participants

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 200
MAX_NOTE = 200


def _field_error(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [ValidationError(message, code=code)]})


def require_gathering(event: Event) -> None:
    if event.kind != EventKind.GATHERING:
        raise ApplicationError("Shared plans belong to gatherings; this event is not one.", code="not_a_gathering")
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")


def _locked_ledger(event: Event) -> CostLedger:
    """The event's ledger row, created with the default currency if missing, locked for this transaction."""
    CostLedger.objects.get_or_create(
        event=event, defaults={"workspace_id": event.workspace_id, "currency": default_currency()}
    )
    return CostLedger.objects.select_for_update().get(event=event)


def _has_records(event: Event) -> bool:
    return Expense.objects.filter(event=event).exists() or Settlement.objects.filter(event=event).exists()


def _participant_ids(event: Event) -> set:
    return set(event_participants(event=event).values_list("pk", flat=True))


def participant_id(value: Any, *, field: str, allowed: set) -> uuid.UUID:
    """A participant's id from input (a UUID or its text); the field is named when it is not one."""
    try:
        pk = value if isinstance(value, uuid.UUID) else uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        pk = None
    if pk is None or pk not in allowed:
        raise _field_error(field, "Not a participant of this event (an attendee or its host).", "unknown_participant")
    return pk


def _money(value: Any, *, field: str, currency: str, allow_zero: bool = False) -> int:
    try:
        return ledger.to_minor(value, currency=currency, allow_zero=allow_zero)
    except ledger.LedgerError as exc:
        raise _field_error(field, str(exc), exc.code) from exc


def _audit(*, event: Event, actor, action: str, target, details: Mapping[str, Any]) -> None:
    audit_manual_send(workspace=event.workspace, actor=actor, action=action, target=target, details=details)


# --- currency -------------------------------------------------------------------------------


@transaction.atomic
def cost_currency_set(*, event: Event, currency: str, actor) -> CostLedger:
    """Sets the event's currency; refused (409 ``currency_locked``) once an expense or settlement exists."""
    require_gathering(event)
    if not ledger.currency_is_valid(currency):
        raise _field_error("currency", "Use an ISO 4217 currency code such as EUR or USD.", "invalid_currency")
    row = _locked_ledger(event)
    if row.currency == currency:
        return row
    if _has_records(event):
        raise Conflict(
            f"The costs are recorded in {row.currency}; the currency cannot change once expenses exist.",
            code="currency_locked",
        )
    before = row.currency
    row.currency = currency
    row.save(update_fields=["currency", "updated_at"])
    _audit(event=event, actor=actor, action="costs.currency", target=row, details={"from": before, "to": currency})
    return row


# --- expenses -------------------------------------------------------------------------------


def _shares(
    *, amount: int, split: str, participants: Any, currency: str, allowed: set
) -> list[tuple[Any, int | None, int]]:
    """``[(person id, weight, amount_minor)]`` in the given order; the parts add up to ``amount``."""
    field = "participants"
    if not isinstance(participants, Sequence) or isinstance(participants, (str, bytes)) or not participants:
        raise _field_error(field, "Choose at least one participant.", "empty")
    if len(participants) > 10_000:
        raise _field_error(field, "Too many participants.", "too_many")
    people, weights, parts = [], [], []
    for index, item in enumerate(participants):
        entry = item if isinstance(item, Mapping) else {"person": item}
        person = participant_id(entry.get("person"), field=field, allowed=allowed)
        if person in people:
            raise _field_error(field, f"Participant {index + 1} is listed twice.", "duplicate")
        people.append(person)
        if split == SplitMethod.SHARES:
            weight = entry.get("shares")
            weight = 1 if weight is None else weight
            if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= ledger.MAX_SHARES:
                raise _field_error(
                    field,
                    f"Participant {index + 1}: shares are whole numbers from 1 to {ledger.MAX_SHARES}.",
                    "invalid_shares",
                )
            weights.append(weight)
        elif split == SplitMethod.EXACT:
            if "amount" not in entry:
                raise _field_error(
                    field, f"Participant {index + 1}: an exact split needs an amount for each.", "required"
                )
            parts.append(_money(entry["amount"], field=field, currency=currency, allow_zero=True))
    try:
        if split == SplitMethod.EQUAL:
            result = ledger.split_equal(amount, people)
        elif split == SplitMethod.SHARES:
            result = ledger.split_by_shares(amount, list(zip(people, weights, strict=True)))
        else:
            result = ledger.split_exact(amount, list(zip(people, parts, strict=True)))
    except ledger.LedgerError as exc:
        raise _field_error(field, str(exc), exc.code) from exc
    return [
        (person, weights[index] if split == SplitMethod.SHARES else None, result[person])
        for index, person in enumerate(people)
    ]


def _expense_values(*, event: Event, currency: str, data: Mapping[str, Any], current: Expense | None) -> dict:
    """The expense's clean values (``data`` over ``current``), every field checked; nothing written."""
    errors: dict[str, list[ValidationError]] = {}
    allowed = _participant_ids(event)
    values: dict[str, Any] = {}

    def attempt(name: str, check) -> None:
        try:
            values[name] = check()
        except ValidationError as exc:
            for key, found in exc.error_dict.items():
                errors.setdefault(key, []).extend(found)

    def description() -> str:
        text = data.get("description", current.description if current else None)
        if not isinstance(text, str) or not text.strip():
            raise _field_error("description", "Say what the expense was for.", "required")
        if len(text) > MAX_DESCRIPTION:
            raise _field_error("description", f"At most {MAX_DESCRIPTION} characters.", "max_length")
        return text.strip()

    def amount() -> int:
        if "amount" in data:
            return _money(data["amount"], field="amount", currency=currency)
        if current is None:
            raise _field_error("amount", "Enter the amount.", "required")
        return current.amount_minor

    def paid_by() -> Any:
        if "paid_by" in data:
            return participant_id(data["paid_by"], field="paid_by", allowed=allowed)
        if current is None:
            raise _field_error("paid_by", "Say who paid.", "required")
        return current.paid_by_id

    def split() -> str:
        method = data.get("split", current.split if current else SplitMethod.EQUAL)
        if method not in SplitMethod.values:
            raise _field_error("split", "Split equal, shares or exact.", "invalid_choice")
        return method

    def spent_on() -> date | None:
        value = data.get("spent_on", current.spent_on if current else None)
        if value is not None and not isinstance(value, date):
            raise _field_error("spent_on", "Enter a date as YYYY-MM-DD.", "invalid")
        return value

    attempt("description", description)
    attempt("amount_minor", amount)
    attempt("paid_by_id", paid_by)
    attempt("split", split)

    def receipt() -> Any:
        if "receipt" not in data:
            return current.receipt_id if current else None
        if data["receipt"] is None:
            return None
        found = EventFile.objects.filter(event=event, pk=data["receipt"]).values_list("pk", flat=True).first()
        if found is None:
            raise _field_error("receipt", "Upload the receipt to this event first (its file id).", "does_not_exist")
        return found

    attempt("spent_on", spent_on)
    attempt("receipt_id", receipt)
    if "amount_minor" in values and "split" in values:
        if "participants" in data:
            participants = data["participants"]
        elif current is not None:
            participants = [
                {
                    "person": share.person_id,
                    "shares": share.weight,
                    "amount": ledger.to_major(share.amount_minor, currency=currency),
                }
                for share in current.shares.order_by("position")
            ]
        else:
            participants = None
        if participants is None:
            errors.setdefault("participants", []).append(ValidationError("Choose who shares the expense."))
        else:
            attempt(
                "shares",
                lambda: _shares(
                    amount=values["amount_minor"],
                    split=values["split"],
                    participants=participants,
                    currency=currency,
                    allowed=allowed,
                ),
            )
    if errors:
        raise ValidationError(errors)
    return values


def _write_shares(expense: Expense, shares: list[tuple[Any, int | None, int]]) -> None:
    ExpenseShare.objects.filter(expense=expense).delete()
    ExpenseShare.objects.bulk_create(
        ExpenseShare(expense=expense, person_id=person, position=position, weight=weight, amount_minor=amount)
        for position, (person, weight, amount) in enumerate(shares)
    )


def _expense_record(expense: Expense, shares: list[tuple[Any, int | None, int]], currency: str) -> dict[str, Any]:
    """What the audit trail keeps of an expense."""
    return {
        "description": expense.description,
        "amount": ledger.to_major(expense.amount_minor, currency=currency),
        "currency": currency,
        "paid_by": str(expense.paid_by_id),
        "split": expense.split,
        "spent_on": expense.spent_on.isoformat() if expense.spent_on else None,
        "receipt": str(expense.receipt_id) if expense.receipt_id else None,
        "shares": {str(person): ledger.to_major(amount, currency=currency) for person, _, amount in shares},
    }


def _check_currency(data: Mapping[str, Any], currency: str) -> None:
    given = data.get("currency")
    if given is not None and given != currency:
        raise _field_error("currency", f"This event's costs are in {currency}.", "currency_mismatch")


@transaction.atomic
def expense_create(*, event: Event, actor, data: Mapping[str, Any]) -> Expense:
    """Records an expense and its shares. ``data``: description, amount (text in major units),
    paid_by (person id), split, participants ([{person, shares?, amount?}]), spent_on, currency."""
    require_gathering(event)
    row = _locked_ledger(event)
    _check_currency(data, row.currency)
    values = _expense_values(event=event, currency=row.currency, data=data, current=None)
    shares = values.pop("shares")
    expense = Expense.objects.create(
        workspace_id=event.workspace_id,
        event=event,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **values,
    )
    _write_shares(expense, shares)
    _audit(
        event=event,
        actor=actor,
        action="expense.create",
        target=expense,
        details={"event": str(event.pk), "after": _expense_record(expense, shares, row.currency)},
    )
    return expense


@transaction.atomic
def expense_update(*, expense: Expense, actor, data: Mapping[str, Any]) -> Expense:
    """Changes an expense (the shares are worked out again); the audit entry keeps before and after."""
    event = expense.event
    require_gathering(event)
    row = _locked_ledger(event)
    _check_currency(data, row.currency)
    expense = Expense.objects.select_for_update().get(pk=expense.pk)
    before_shares = [
        (share.person_id, share.weight, share.amount_minor) for share in expense.shares.order_by("position")
    ]
    before = _expense_record(expense, before_shares, row.currency)
    values = _expense_values(event=event, currency=row.currency, data=data, current=expense)
    shares = values.pop("shares")
    for name, value in values.items():
        setattr(expense, name, value)
    expense.save()
    _write_shares(expense, shares)
    _audit(
        event=event,
        actor=actor,
        action="expense.update",
        target=expense,
        details={"event": str(event.pk), "before": before, "after": _expense_record(expense, shares, row.currency)},
    )
    return expense


@transaction.atomic
def expense_delete(*, expense: Expense, actor) -> None:
    """Deletes an expense; the audit entry keeps what it was."""
    event = expense.event
    require_gathering(event)
    row = _locked_ledger(event)
    shares = [(share.person_id, share.weight, share.amount_minor) for share in expense.shares.order_by("position")]
    _audit(
        event=event,
        actor=actor,
        action="expense.delete",
        target=expense,
        details={"event": str(event.pk), "before": _expense_record(expense, shares, row.currency)},
    )
    expense.delete()


# --- settlements ----------------------------------------------------------------------------


@transaction.atomic
def settlement_create(*, event: Event, actor, data: Mapping[str, Any]) -> Settlement:
    """Records that ``payer`` paid ``payee`` ``amount`` ("mark as settled")."""
    require_gathering(event)
    row = _locked_ledger(event)
    _check_currency(data, row.currency)
    allowed = _participant_ids(event)
    errors: dict[str, list[ValidationError]] = {}
    values: dict[str, Any] = {}
    for name, check in (
        ("payer_id", lambda: participant_id(data.get("payer"), field="payer", allowed=allowed)),
        ("payee_id", lambda: participant_id(data.get("payee"), field="payee", allowed=allowed)),
        ("amount_minor", lambda: _money(data.get("amount"), field="amount", currency=row.currency)),
    ):
        try:
            values[name] = check()
        except ValidationError as exc:
            for key, found in exc.error_dict.items():
                errors.setdefault(key, []).extend(found)
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        errors.setdefault("note", []).append(ValidationError(f"At most {MAX_NOTE} characters of text."))
    if not errors and values["payer_id"] == values["payee_id"]:
        errors["payee"] = [ValidationError("Someone else than the payer.")]
    if errors:
        raise ValidationError(errors)
    settlement = Settlement.objects.create(
        workspace_id=event.workspace_id,
        event=event,
        note=note.strip(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **values,
    )
    _audit(
        event=event,
        actor=actor,
        action="settlement.create",
        target=settlement,
        details={
            "event": str(event.pk),
            "payer": str(settlement.payer_id),
            "payee": str(settlement.payee_id),
            "amount": ledger.to_major(settlement.amount_minor, currency=row.currency),
            "currency": row.currency,
        },
    )
    return settlement


@transaction.atomic
def settlement_delete(*, settlement: Settlement, actor) -> None:
    """Takes back a settlement recorded by mistake (audited)."""
    event = settlement.event
    require_gathering(event)
    row = _locked_ledger(event)
    _audit(
        event=event,
        actor=actor,
        action="settlement.delete",
        target=settlement,
        details={
            "event": str(event.pk),
            "payer": str(settlement.payer_id),
            "payee": str(settlement.payee_id),
            "amount": ledger.to_major(settlement.amount_minor, currency=row.currency),
            "currency": row.currency,
        },
    )
    settlement.delete()
