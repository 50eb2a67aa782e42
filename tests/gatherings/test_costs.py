"""Shared costs of a gathering through the API: expenses, splits, balances, transfers, settlements.

Every refusal leaves nothing written; every change is in the audit trail.
"""

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Attendee, EventKind
from gatherings.models import CostLedger, Expense, ExpenseShare, Settlement
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory
from tests.gatherings.factories import GatheringFactory

pytestmark = pytest.mark.django_db


def _expense(party, client=None, **overrides):
    body = {
        "event": str(party.event.id),
        "description": "Drinks",
        "amount": "10.00",
        "paid_by": str(party.ana.id),
        "split": "equal",
        "participants": [{"person": str(p.id)} for p in (party.ana, party.bo, party.cy)],
    }
    body.update(overrides)
    return (client or party.other_client).post(f"{party.api}/expenses/", body, format="json")


def _counts():
    return (
        Expense.objects.count(),
        ExpenseShare.objects.count(),
        Settlement.objects.count(),
        LogEntry.objects.filter(additional_data__operation__startswith="expense").count(),
    )


def test_an_equal_split_adds_up_to_the_cent_and_is_audited(party):
    response = _expense(party)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "10.00"
    assert body["amount_minor"] == 1000
    assert body["currency"] == "EUR"
    assert [(p["person"], p["amount"]) for p in body["participants"]] == [
        (str(party.ana.id), "3.34"),
        (str(party.bo.id), "3.33"),
        (str(party.cy.id), "3.33"),
    ]
    entry = LogEntry.objects.get(additional_data__operation="expense.create")
    assert entry.actor == party.other_member
    assert entry.additional_data["workspace_id"] == str(party.workspace.id)
    assert entry.additional_data["details"]["after"]["amount"] == "10.00"


def test_three_expenses_are_balanced_and_settled_with_the_fewest_transfers(party):
    """GIVEN Ana pays 90 for all four, Bo 30 for Bo and Cy, the host 12 by shares (host 2, Cy 1)
    WHEN the balances are read, the suggested transfers recorded as settled
    THEN the balances sum to zero, there are at most 3 transfers, and afterwards every balance is 0."""
    everyone = [{"person": str(p.id)} for p in (party.host_person, party.ana, party.bo, party.cy)]
    assert _expense(party, amount="90.00", participants=everyone).status_code == 201
    assert _expense(party, amount="30", paid_by=str(party.bo.id), participants=everyone[2:]).status_code == 201
    by_shares = [{"person": str(party.host_person.id), "shares": 2}, {"person": str(party.cy.id), "shares": 1}]
    response = _expense(
        party, amount="12.00", paid_by=str(party.host_person.id), split="shares", participants=by_shares
    )
    assert response.status_code == 201, response.content

    summary = party.other_client.get(party.costs_url).json()
    balances = {row["person"]: row["balance_minor"] for row in summary["participants"]}
    assert sum(balances.values()) == 0
    # Ana: +90 - 22.50; Bo: +30 - 22.50 - 15; host: +12 - 22.50 - 8; Cy: -22.50 - 15 - 4.
    assert balances == {
        str(party.ana.id): 6750,
        str(party.bo.id): -750,
        str(party.host_person.id): -1850,
        str(party.cy.id): -4150,
    }
    assert summary["total"] == "132.00"
    assert summary["expense_count"] == 3
    transfers = summary["transfers"]
    assert len(transfers) == 3
    assert {t["payee"] for t in transfers} == {str(party.ana.id)}

    for transfer in transfers:
        body = {"event": str(party.event.id), "payer": transfer["payer"], "payee": transfer["payee"]}
        body["amount"] = transfer["amount"]
        assert party.other_client.post(f"{party.api}/settlements/", body, format="json").status_code == 201
    after = party.other_client.get(party.costs_url).json()
    assert all(row["balance_minor"] == 0 for row in after["participants"])
    assert after["transfers"] == []
    assert after["settlement_count"] == 3


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"amount": "-5"}, "amount", "negative"),
        ({"amount": "0"}, "amount", "zero"),
        ({"amount": "99999999999"}, "amount", "too_large"),
        ({"amount": "1.005"}, "amount", "too_many_decimals"),
        ({"amount": 10.5}, "amount", "invalid"),
        ({"currency": "USD"}, "currency", "currency_mismatch"),
        ({"split": "thirds"}, "split", "invalid_choice"),
        ({"participants": []}, "participants", "empty"),
        ({"description": ""}, "description", "blank"),
        ({"paid_by": "not-a-uuid"}, "paid_by", "invalid"),
    ],
)
def test_bad_expenses_are_refused_naming_the_field_and_nothing_is_written(party, overrides, field, code):
    before = _counts()
    response = _expense(party, **overrides)
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"], body
    assert body["code"] == code, body
    assert _counts() == before


def test_an_exact_split_that_does_not_add_up_is_refused(party):
    parts = [{"person": str(party.ana.id), "amount": "4.00"}, {"person": str(party.bo.id), "amount": "5.99"}]
    response = _expense(party, split="exact", participants=parts)
    assert response.status_code == 400
    assert response.json()["code"] == "split_mismatch"
    assert "participants" in response.json()["errors"]
    assert Expense.objects.count() == 0
    parts[1]["amount"] = "6.00"
    response = _expense(party, split="exact", participants=parts)
    assert response.status_code == 201, response.content
    assert [p["amount"] for p in response.json()["participants"]] == ["4.00", "6.00"]


def test_unknown_participants_and_people_of_another_event_are_refused(party):
    other_event = GatheringFactory(workspace=party.workspace)
    stranger = PersonFactory(workspace=party.workspace)
    Attendee.objects.create(event=other_event, person=stranger)
    for overrides, field in (
        ({"paid_by": str(party.outsider.id)}, "paid_by"),
        ({"paid_by": str(stranger.id)}, "paid_by"),
        ({"participants": [{"person": str(party.ana.id)}, {"person": str(stranger.id)}]}, "participants"),
        ({"participants": [{"person": str(party.ana.id)}, {"person": str(party.ana.id)}]}, "participants"),
    ):
        before = _counts()
        response = _expense(party, **overrides)
        assert response.status_code == 400, overrides
        assert field in response.json()["errors"]
        assert _counts() == before


def test_an_event_of_another_workspace_is_not_found_as_a_field(party):
    foreign = GatheringFactory()
    response = _expense(party, event=str(foreign.id))
    assert response.status_code == 400
    assert "event" in response.json()["errors"]
    assert Expense.objects.count() == 0


def test_only_gatherings_have_shared_costs_and_cancelled_ones_refuse_changes(party):
    party.event.kind = EventKind.CUSTOM
    party.event.save()
    response = _expense(party)
    assert (response.status_code, response.json()["code"]) == (400, "not_a_gathering")
    party.event.kind = EventKind.GATHERING
    party.event.status = "cancelled"
    party.event.cancelled_at = party.event.created_at
    party.event.save()
    response = _expense(party)
    assert (response.status_code, response.json()["code"]) == (409, "event_cancelled")
    assert Expense.objects.count() == 0


def test_the_currency_is_set_before_expenses_and_locked_after(party):
    assert party.other_client.patch(party.costs_url, {"currency": "JPY"}, format="json").status_code == 403
    response = party.host_client.patch(party.costs_url, {"currency": "ZZZ"}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid_currency")
    response = party.host_client.patch(party.costs_url, {"currency": "JPY"}, format="json")
    assert response.status_code == 200
    assert response.json()["currency"] == "JPY"
    assert _expense(party, amount="10.50").json()["code"] == "too_many_decimals"
    created = _expense(party, amount="1000")
    assert created.status_code == 201
    assert created.json()["participants"][0]["amount"] == "334"
    response = party.owner_client.patch(party.costs_url, {"currency": "EUR"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "currency_locked")
    assert CostLedger.objects.get(event=party.event).currency == "JPY"


def test_editing_an_expense_reworks_the_split_and_keeps_before_and_after_in_the_audit(party):
    expense_id = _expense(party).json()["id"]
    url = f"{party.api}/expenses/{expense_id}/"
    response = party.other_client.patch(url, {"amount": "20.00"}, format="json")
    assert response.status_code == 200, response.content
    assert [p["amount"] for p in response.json()["participants"]] == ["6.67", "6.67", "6.66"]
    entry = LogEntry.objects.get(additional_data__operation="expense.update")
    assert entry.additional_data["details"]["before"]["amount"] == "10.00"
    assert entry.additional_data["details"]["after"]["amount"] == "20.00"
    # A refused change leaves the expense as it was.
    assert party.other_client.patch(url, {"amount": "-1"}, format="json").status_code == 400
    assert Expense.objects.get(pk=expense_id).amount_minor == 2000


def test_only_the_author_or_an_organiser_changes_or_deletes_an_expense(party):
    expense_id = _expense(party, client=party.other_client).json()["id"]
    url = f"{party.api}/expenses/{expense_id}/"
    third = MembershipFactory(workspace=party.workspace).user
    stranger_client = client_for(third)
    assert stranger_client.patch(url, {"description": "Mine"}, format="json").status_code == 403
    assert stranger_client.delete(url).status_code == 403
    assert party.host_client.patch(url, {"description": "Wine"}, format="json").status_code == 200
    assert party.host_client.delete(url).status_code == 204
    assert not Expense.objects.filter(pk=expense_id).exists()
    entry = LogEntry.objects.get(additional_data__operation="expense.delete")
    assert entry.additional_data["details"]["before"]["description"] == "Wine"


def test_a_settlement_between_one_person_or_with_a_bad_amount_is_refused(party):
    url = f"{party.api}/settlements/"
    base = {"event": str(party.event.id), "payer": str(party.bo.id), "payee": str(party.ana.id), "amount": "5"}
    for overrides, field in (
        ({"payee": str(party.bo.id)}, "payee"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-3"}, "amount"),
        ({"payer": str(party.outsider.id)}, "payer"),
    ):
        response = party.other_client.post(url, {**base, **overrides}, format="json")
        assert response.status_code == 400, overrides
        assert field in response.json()["errors"]
    assert Settlement.objects.count() == 0
    assert party.other_client.post(url, base, format="json").status_code == 201


def test_the_expense_list_filters_by_event(party):
    _expense(party)
    other = GatheringFactory(workspace=party.workspace)
    response = party.other_client.get(f"{party.api}/expenses/", {"event": str(other.id)})
    assert response.status_code == 200
    assert response.json()["results"] == []
    response = party.other_client.get(f"{party.api}/expenses/", {"event": str(party.event.id)})
    assert len(response.json()["results"]) == 1


def _crowd(party, n: int):
    """``n`` more guests, and one expense among all of them."""
    guests = [PersonFactory(workspace=party.workspace, name=f"Guest {i:03d}") for i in range(n)]
    for guest in guests:
        Attendee.objects.create(event=party.event, person=guest)
    everyone = [{"person": str(p.id)} for p in guests]
    assert _expense(party, amount="1000.00", paid_by=str(guests[0].id), participants=everyone).status_code == 201


def test_the_balances_answer_in_a_constant_number_of_queries(party):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert party.other_client.get(party.costs_url).status_code == 200
        return len(captured.captured_queries)

    _crowd(party, 3)
    few = queries()
    _crowd(party, 60)
    many = party.other_client.get(party.costs_url).json()
    assert len(many["participants"]) == 4 + 63
    assert queries() == few


def test_switching_an_equal_split_to_shares_counts_one_share_each(party):
    expense_id = _expense(party, amount="9.00").json()["id"]
    response = party.other_client.patch(f"{party.api}/expenses/{expense_id}/", {"split": "shares"}, format="json")
    assert response.status_code == 200, response.content
    assert [(p["shares"], p["amount"]) for p in response.json()["participants"]] == [(1, "3.00")] * 3
