"""The arithmetic of shared costs: currencies, amounts in minor units, splits, balances, transfers.

Pure functions on integers (no Django, no floats): an amount is an ``int`` of the currency's
minor units (cents for EUR, yen for JPY, fils for BHD). Participants are opaque hashable keys
(person ids); wherever an order matters it is the order the caller gives, so every result is
deterministic.

- **Splits** always add up to the amount exactly. An equal split gives everyone
  ``amount // n`` and the remaining ``amount % n`` minor units one each to the first
  participants in the given order. A split by shares uses the largest-remainder method
  (Hamilton): each gets the floor of their exact part, and the units left over go to the
  largest fractional remainders, ties broken by order. An exact split must add up to the amount.
- **Balances**: what someone paid (expenses, and transfers they sent) minus what they owe
  (their shares, and transfers they received). They always sum to zero.
- **Transfers** that settle everyone: greedy, the largest debtor pays the largest creditor as
  much as one of them needs, repeated. Each step settles at least one of the two, and the last
  step settles both, so there are at most ``n - 1`` transfers for ``n`` people with a balance
  (zero balances need none). The true minimum is NP-hard (it means finding the most disjoint
  groups whose balances sum to zero); greedy is what Splitwise-style tools use, it is
  ``O(n log n)`` and it often reaches the minimum. Ties are broken by the participant key, so
  the same balances always give the same transfers.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency

# The largest amount one expense or transfer may have, in major units of any currency.
MAX_MAJOR_AMOUNT = 10_000_000
MAX_SHARES = 1000


class LedgerError(ValueError):
    """Input the arithmetic refuses; ``code`` is stable, the message says why."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def currency_is_valid(code: object) -> bool:
    """An ISO 4217 code of a currency people pay with (not the X… codes of metals, funds and tests)."""
    return (
        isinstance(code, str)
        and len(code) == 3
        and code.isascii()
        and code.isalpha()
        and code.isupper()
        and not code.startswith("X")
        and is_currency(code)
    )


def currency_exponent(code: str) -> int:
    """Digits after the decimal point (2 for EUR, 0 for JPY, 3 for BHD), from the CLDR data."""
    return int(get_currency_precision(code))


def max_minor(code: str) -> int:
    return MAX_MAJOR_AMOUNT * 10 ** currency_exponent(code)


def to_minor(value: object, *, currency: str, allow_zero: bool = False) -> int:
    """``"12.34"`` (a string, an int or a Decimal; never a float) in EUR → ``1234``.

    Refused: more decimals than the currency has, zero (unless ``allow_zero``), negative
    amounts, amounts above :data:`MAX_MAJOR_AMOUNT`, and anything that is not a number.
    """
    if isinstance(value, (bool, float)):
        # A float has already lost the exact cents (0.1 + 0.2); amounts are strings or integers.
        raise LedgerError('Write the amount as a string such as "12.50" (or an integer).', code="invalid")
    try:
        amount = Decimal(str(value).strip()) if isinstance(value, (str, int, Decimal)) else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise LedgerError("Enter an amount such as 12.50.", code="invalid")
    if amount < 0:
        raise LedgerError("The amount cannot be negative.", code="negative")
    # Bounded before any conversion: "1e999999999" must not become a billion-digit integer.
    if amount > MAX_MAJOR_AMOUNT:
        raise LedgerError(f"The amount is too large (at most {MAX_MAJOR_AMOUNT:,} {currency}).", code="too_large")
    exponent = currency_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise LedgerError(f"{currency} amounts have at most {exponent} decimal places.", code="too_many_decimals")
    minor = int(scaled)
    if minor == 0 and not allow_zero:
        raise LedgerError("The amount must be more than zero.", code="zero")
    return minor


def to_major(minor: int, *, currency: str) -> str:
    """``1234`` EUR → ``"12.34"``; ``500`` JPY → ``"500"``."""
    exponent = currency_exponent(currency)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def _check_people(people: Sequence[Hashable]) -> None:
    if not people:
        raise LedgerError("Choose at least one participant.", code="empty")
    if len(set(people)) != len(people):
        raise LedgerError("A participant is listed twice.", code="duplicate")


def split_equal(amount: int, people: Sequence[Hashable]) -> dict[Hashable, int]:
    """Equal parts; the ``amount % n`` units left go one each to the first participants."""
    _check_people(people)
    base, left = divmod(amount, len(people))
    return {person: base + (1 if index < left else 0) for index, person in enumerate(people)}


def split_by_shares(amount: int, shares: Sequence[tuple[Hashable, int]]) -> dict[Hashable, int]:
    """Parts proportional to whole-number shares, by the largest-remainder method (ties: by order)."""
    _check_people([person for person, _ in shares])
    for _, weight in shares:
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_SHARES:
            raise LedgerError(f"Shares are whole numbers from 1 to {MAX_SHARES}.", code="invalid_shares")
    total = sum(weight for _, weight in shares)
    parts = {}
    remainders = []
    for index, (person, weight) in enumerate(shares):
        part, remainder = divmod(amount * weight, total)
        parts[person] = part
        remainders.append((-remainder, index, person))
    left = amount - sum(parts.values())
    for _, _, person in sorted(remainders)[:left]:
        parts[person] += 1
    return parts


def split_exact(amount: int, parts: Sequence[tuple[Hashable, int]]) -> dict[Hashable, int]:
    """The parts as given, which must add up to ``amount`` (each zero or more)."""
    _check_people([person for person, _ in parts])
    if any(part < 0 for _, part in parts):
        raise LedgerError("A part cannot be negative.", code="negative")
    total = sum(part for _, part in parts)
    if total != amount:
        raise LedgerError(f"The parts add up to {total}, not to the amount {amount}.", code="split_mismatch")
    return dict(parts)


def balances(
    *,
    paid: Mapping[Hashable, int],
    owed: Mapping[Hashable, int],
    sent: Mapping[Hashable, int] | None = None,
    received: Mapping[Hashable, int] | None = None,
) -> dict[Hashable, int]:
    """Per participant: positive = is owed money, negative = owes money. Sums to zero when the
    inputs are consistent (what was paid was owed; every transfer sent was received)."""
    sent = sent or {}
    received = received or {}
    people = set(paid) | set(owed) | set(sent) | set(received)
    return {
        person: paid.get(person, 0) + sent.get(person, 0) - owed.get(person, 0) - received.get(person, 0)
        for person in people
    }


@dataclass(frozen=True)
class Transfer:
    """``payer`` pays ``payee`` ``amount`` minor units."""

    payer: Hashable
    payee: Hashable
    amount: int


def settle(balance_of: Mapping[Hashable, int], *, order: Iterable[Hashable] | None = None) -> list[Transfer]:
    """Transfers that bring every balance to zero: greedy largest debtor → largest creditor.

    ``order`` ranks participants for ties (default: sorted by ``str`` of the key).
    """
    if sum(balance_of.values()) != 0:
        raise LedgerError("The balances do not sum to zero.", code="unbalanced")
    ranking = list(order) if order is not None else sorted(balance_of, key=str)
    rank = {person: index for index, person in enumerate(ranking)}
    fallback = len(rank)
    debtors = [(amount, rank.get(p, fallback), str(p), p) for p, amount in balance_of.items() if amount < 0]
    creditors = [(-amount, rank.get(p, fallback), str(p), p) for p, amount in balance_of.items() if amount > 0]
    heapq.heapify(debtors)  # most negative first
    heapq.heapify(creditors)  # largest credit first
    transfers = []
    while debtors and creditors:
        debt, debtor_rank, debtor_key, debtor = heapq.heappop(debtors)
        credit, creditor_rank, creditor_key, creditor = heapq.heappop(creditors)
        amount = min(-debt, -credit)
        transfers.append(Transfer(payer=debtor, payee=creditor, amount=amount))
        if -debt > amount:
            heapq.heappush(debtors, (debt + amount, debtor_rank, debtor_key, debtor))
        if -credit > amount:
            heapq.heappush(creditors, (credit + amount, creditor_rank, creditor_key, creditor))
    return transfers
