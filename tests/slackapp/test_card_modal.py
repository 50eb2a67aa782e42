"""The group card in Slack: the alert's button opens the wish modal (views.open on the fake Slack), its
signed submission saves the wish; the celebrated person, another workspace's card and a closed card are refused."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from cards import blocks as card_blocks
from cards.links import CardRef, card_token
from cards.models import PrepSettings, Wish
from tests.factories import WorkspaceFactory
from tests.slackapp.conftest import signed_headers
from workspaces.birthdays import workspace_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(alpha):
    """Ada's birthday card in Alpha, delivered the day after tomorrow; Bo may write on it."""
    workspace = alpha["workspace"]
    PrepSettings.objects.create(workspace=workspace, alert_days=3, group_card=True)
    day = workspace_today(workspace) + timedelta(days=2)
    return CardRef(workspace_id=workspace.pk, person_id=alpha["ada"].pk, kind="birthday", day=day)


def click(slack, slack_api, user_id: str, token: str):
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ALPHA"},
        "user": {"id": user_id},
        "trigger_id": "1337.42.abcd",
        "response_url": slack_api.url + "/actions/T0ALPHA/1/xyz",
        "actions": [{"action_id": card_blocks.ACTION_ADD_WISHES, "value": token}],
    }
    return slack.interaction(payload)


def submit(slack, user_id: str, token: str, text: str):
    state = {card_blocks.WISH_BLOCK: {card_blocks.WISH_ACTION: {"type": "plain_text_input", "value": text}}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0ALPHA"},
        "user": {"id": user_id},
        "view": {"callback_id": card_blocks.WISH_MODAL, "private_metadata": token, "state": {"values": state}},
    }
    return slack.interaction(payload)


def ephemeral_answers(slack_api) -> list[str]:
    return [item.body["text"] for item in slack_api.received if item.path.startswith("/actions/")]


def test_the_button_opens_the_modal_and_the_submission_saves_the_wish(alpha, card, slack, slack_api, run_tasks):
    token = card_token(card)
    assert click(slack, slack_api, "UBO", token).status_code == 200
    assert run_tasks() == ["slackapp.interaction"]
    (call,) = slack_api.calls("views.open")
    view = call.body["view"] if isinstance(call.body["view"], dict) else json.loads(call.body["view"])
    assert view["callback_id"] == card_blocks.WISH_MODAL
    assert view["private_metadata"] == token
    assert "*Ada Admin*'s birthday" in view["blocks"][0]["text"]["text"]

    response = submit(slack, "UBO", token, "Happy birthday, Ada!")
    assert response.status_code == 200
    assert response.content == b""
    run_tasks()
    wish = Wish.objects.get()
    assert (wish.author, wish.text, wish.card.person, wish.card.day) == (
        alpha["bo"],
        "Happy birthday, Ada!",
        alpha["ada"],
        card.day,
    )

    # Opening it again shows Bo's own wish to change, nobody else's.
    click(slack, slack_api, "UBO", token)
    run_tasks()
    view = slack_api.calls("views.open")[-1].body["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    assert view["blocks"][1]["element"]["initial_value"] == "Happy birthday, Ada!"


def test_the_celebrated_person_gets_no_modal_and_cannot_submit(alpha, card, slack, slack_api, run_tasks):
    token = card_token(card)
    click(slack, slack_api, "UADA", token)
    run_tasks()
    assert not slack_api.calls("views.open")
    assert ephemeral_answers(slack_api) == ["This button does not work for you."]

    response = submit(slack, "UADA", token, "Sneaky")
    assert response.json() == {
        "response_action": "errors",
        "errors": {card_blocks.WISH_BLOCK: "This button does not work for you."},
    }
    assert run_tasks() == []
    assert not Wish.objects.exists()


def test_another_workspaces_card_and_a_forged_value_are_refused(alpha, card, slack, slack_api, run_tasks):
    beta = WorkspaceFactory(name="Beta")
    PrepSettings.objects.create(workspace=beta, alert_days=3, group_card=True)
    for token in (card_token(replace(card, workspace_id=beta.pk)), "forged-value", card_token(card) + "x"):
        click(slack, slack_api, "UBO", token)
        run_tasks()
        assert submit(slack, "UBO", token, "Hi").json()["response_action"] == "errors"
    assert not slack_api.calls("views.open")
    assert not Wish.objects.exists()


def test_after_the_day_the_modal_says_the_card_was_delivered(alpha, card, slack, slack_api, run_tasks):
    closed = card_token(replace(card, day=workspace_today(alpha["workspace"])))
    click(slack, slack_api, "UBO", closed)
    run_tasks()
    assert ephemeral_answers(slack_api) == ["The card was delivered on the day; it takes no more wishes."]

    errors = submit(slack, "UBO", closed, "Late").json()["errors"]
    assert errors == {card_blocks.WISH_BLOCK: "The card was delivered on the day; it takes no more wishes."}
    assert not Wish.objects.exists()


def test_an_empty_wish_is_an_error_in_the_modal(alpha, card, slack):
    errors = submit(slack, "UBO", card_token(card), "   ").json()["errors"]
    assert errors == {card_blocks.WISH_BLOCK: "Write a wish."}


def test_an_unsigned_submission_is_refused(alpha, card, slack):
    state = {card_blocks.WISH_BLOCK: {card_blocks.WISH_ACTION: {"value": "Hi"}}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBO"},
        "view": {
            "callback_id": card_blocks.WISH_MODAL,
            "private_metadata": card_token(card),
            "state": {"values": state},
        },
    }
    body = ("payload=" + json.dumps(payload)).encode()
    response = slack.post(
        "/slack/interactivity", body, "application/x-www-form-urlencoded", signed=signed_headers(body, secret="wrong")
    )
    assert response.status_code == 401
    assert not Wish.objects.exists()
