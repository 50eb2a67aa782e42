"""Block Kit pieces of the group card (plain data): the alert's "Add your wishes" button and the wish modal.

Here rather than in ``slackapp`` so that the alert's planner (``scheduling``) and the Slack app
share the action and modal ids; both sit above this app.
"""

from __future__ import annotations

from django.utils.translation import gettext

from cards.models import MAX_WISH_LENGTH

ACTION_ADD_WISHES = "card_add_wishes"
WISH_MODAL = "card_wish"
WISH_BLOCK, WISH_ACTION = "card_wish_text", "card_wish_input"


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def alert_blocks(*, text: str, token: str) -> list[dict]:
    """The alert's text (already in Slack's markup) with the button that opens the wish modal."""
    button = {
        "type": "button",
        "text": _plain(gettext("Add your wishes")),
        "action_id": ACTION_ADD_WISHES,
        "value": token,
        "style": "primary",
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {"type": "actions", "elements": [button]},
    ]


def wish_modal(*, title: str, token: str, own_text: str) -> dict:
    """The modal: one text field, prefilled with the writer's own wish; the card's reference rides along."""
    element: dict = {
        "type": "plain_text_input",
        "action_id": WISH_ACTION,
        "multiline": True,
        "max_length": MAX_WISH_LENGTH,
    }
    if own_text:
        element["initial_value"] = own_text
    return {
        "type": "modal",
        "callback_id": WISH_MODAL,
        "private_metadata": token,
        "title": _plain(gettext("Group card")[:24]),
        "submit": _plain(gettext("Save")),
        "close": _plain(gettext("Cancel")),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": title[:3000]}},
            {"type": "input", "block_id": WISH_BLOCK, "label": _plain(gettext("Your wish")), "element": element},
        ],
    }
