"""The arithmetic of shared costs (gatherings/ledger.py): splits, balances, transfers, amounts."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatherings import ledger

PROPERTIES = settings(max_examples=300, derandomize=True, database=None, deadline=None)

amounts = st.integers(min_value=1, max_value=10**9)
people_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40, unique=True)


@PROPERTIES
@given(amount=amounts, people=people_lists)
def test_an_equal_split_adds_up_and_differs_by_at_most_one_unit(amount, people):
    parts = ledger.split_equal(amount, people)
    assert sum(parts.values()) == amount
    assert set(parts) == set(people)
    assert max(parts.values()) - min(parts.values()) <= 1
    # The leftover units go to the first participants in the given order.
    values = [parts[person] for person in people]
    assert values == sorted(values, reverse=True)


@PROPERTIES
@given(amount=amounts, data=st.data())
def test_a_split_by_shares_adds_up_and_stays_within_one_unit_of_the_exact_part(amount, data):
    people = data.draw(people_lists)
    weights = data.draw(st.lists(st.integers(1, ledger.MAX_SHARES), min_size=len(people), max_size=len(people)))
    parts = ledger.split_by_shares(amount, list(zip(people, weights, strict=True)))
    assert sum(parts.values()) == amount
    total = sum(weights)
    for person, weight in zip(people, weights, strict=True):
        exact = Decimal(amount * weight) / total
        assert abs(parts[person] - exact) < 1


@PROPERTIES
@given(data=st.data())
def test_an_exact_split_is_taken_only_when_it_adds_up(data):
    people = data.draw(people_lists)
    parts = data.draw(st.lists(st.integers(0, 10**6), min_size=len(people), max_size=len(people)))
    amount = sum(parts)
    pairs = list(zip(people, parts, strict=True))
    if amount > 0:
        assert sum(ledger.split_exact(amount, pairs).values()) == amount
    with pytest.raises(ledger.LedgerError) as refused:
        ledger.split_exact(amount + 1, pairs)
    assert refused.value.code == "split_mismatch"


expense_lists = st.lists(
    st.tuples(st.integers(0, 9), amounts, st.lists(st.integers(0, 9), min_size=1, max_size=10, unique=True)),
    min_size=1,
    max_size=30,
)


def _balances_of(expenses) -> dict:
    paid: dict = {}
    owed: dict = {}
    for payer, amount, sharers in expenses:
        paid[payer] = paid.get(payer, 0) + amount
        for person, part in ledger.split_equal(amount, sharers).items():
            owed[person] = owed.get(person, 0) + part
    return ledger.balances(paid=paid, owed=owed)


@PROPERTIES
@given(expenses=expense_lists)
def test_balances_sum_to_zero_and_the_transfers_settle_everyone_in_at_most_n_minus_1(expenses):
    balance_of = _balances_of(expenses)
    assert sum(balance_of.values()) == 0
    transfers = ledger.settle(balance_of)
    with_balance = [person for person, amount in balance_of.items() if amount != 0]
    assert len(transfers) <= max(len(with_balance) - 1, 0)
    after = dict(balance_of)
    for transfer in transfers:
        assert transfer.amount > 0
        assert transfer.payer != transfer.payee
        assert balance_of[transfer.payer] < 0 < balance_of[transfer.payee]  # debtors pay, creditors receive
        after[transfer.payer] += transfer.amount
        after[transfer.payee] -= transfer.amount
    assert all(amount == 0 for amount in after.values())


@PROPERTIES
@given(expenses=expense_lists)
def test_recorded_settlements_count_in_the_balances(expenses):
    balance_of = _balances_of(expenses)
    transfers = ledger.settle(balance_of)
    sent: dict = {}
    received: dict = {}
    for transfer in transfers:
        sent[transfer.payer] = sent.get(transfer.payer, 0) + transfer.amount
        received[transfer.payee] = received.get(transfer.payee, 0) + transfer.amount
    paid: dict = {}
    owed: dict = {}
    for payer, amount, sharers in expenses:
        paid[payer] = paid.get(payer, 0) + amount
        for person, part in ledger.split_equal(amount, sharers).items():
            owed[person] = owed.get(person, 0) + part
    settled = ledger.balances(paid=paid, owed=owed, sent=sent, received=received)
    assert all(amount == 0 for amount in settled.values())
    assert ledger.settle(settled) == []


def test_greedy_settles_a_chain_with_the_fewest_transfers():
    # A owes 30, B owes 20, C is owed 50: two transfers, both to C.
    transfers = ledger.settle({"A": -30, "B": -20, "C": 50})
    assert [(t.payer, t.payee, t.amount) for t in transfers] == [("A", "C", 30), ("B", "C", 20)]


def test_the_same_balances_always_give_the_same_transfers():
    balance_of = {"A": -10, "B": -10, "C": 10, "D": 10}
    assert ledger.settle(balance_of) == ledger.settle(dict(reversed(balance_of.items())))
    assert [(t.payer, t.payee) for t in ledger.settle(balance_of)] == [("A", "C"), ("B", "D")]


def test_settle_refuses_balances_that_do_not_sum_to_zero():
    with pytest.raises(ledger.LedgerError):
        ledger.settle({"A": -10, "B": 9})


def test_an_equal_split_of_ten_euros_among_three_gives_the_extra_cent_to_the_first():
    assert ledger.split_equal(1000, ["ana", "bo", "cy"]) == {"ana": 334, "bo": 333, "cy": 333}


def test_shares_use_the_largest_remainder():
    # 100 cents at 1:1:1 → 33.33 each: one cent left, the first (equal remainders) gets it.
    assert ledger.split_by_shares(100, [("a", 1), ("b", 1), ("c", 1)]) == {"a": 34, "b": 33, "c": 33}
    # 100 at 2:1 → 66.67 / 33.33: the larger remainder (0.67) gets the cent.
    assert ledger.split_by_shares(100, [("a", 2), ("b", 1)]) == {"a": 67, "b": 33}


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [("12.34", "EUR", 1234), ("12", "EUR", 1200), (12, "EUR", 1200), ("500", "JPY", 500), ("1.234", "BHD", 1234)],
)
def test_amounts_become_minor_units_of_their_currency(value, currency, minor):
    assert ledger.to_minor(value, currency=currency) == minor
    assert ledger.to_minor(ledger.to_major(minor, currency=currency), currency=currency) == minor


@pytest.mark.parametrize(
    ("value", "currency", "code"),
    [
        ("12.345", "EUR", "too_many_decimals"),
        ("1.5", "JPY", "too_many_decimals"),
        ("-1", "EUR", "negative"),
        ("0", "EUR", "zero"),
        ("0.00", "EUR", "zero"),
        ("10000000.01", "EUR", "too_large"),
        ("1e999999999", "EUR", "too_large"),
        ("NaN", "EUR", "invalid"),
        ("Infinity", "EUR", "invalid"),
        ("twelve", "EUR", "invalid"),
        (12.5, "EUR", "invalid"),
        (True, "EUR", "invalid"),
        (None, "EUR", "invalid"),
    ],
)
def test_bad_amounts_are_refused_with_a_code(value, currency, code):
    with pytest.raises(ledger.LedgerError) as refused:
        ledger.to_minor(value, currency=currency)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("code", "valid"),
    [("EUR", True), ("JPY", True), ("eur", False), ("XAU", False), ("ABC", False), ("EURO", False), (1, False)],
)
def test_currencies_are_iso_4217_codes_people_pay_with(code, valid):
    assert ledger.currency_is_valid(code) is valid
