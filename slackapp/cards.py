"""The group card in Slack: the alert's "Add your wishes" button opens a modal; its answer is a wish.

The button's value is the card's signed reference (``cards.links``); Slack says who clicked, and
``cards.services`` decides, exactly as for the wish page: the celebrated person and anyone the
card is not open to get the answer of an unknown button, never a sign that a card exists.
The modal's answer is checked in the request (errors shown in the modal), saved in Celery.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from slack_sdk.errors import SlackApiError

from cards import blocks as card_blocks
from cards import services as card_services
from cards.links import CardRef, card_ref_from_token
from slackapp.blocks import escape
from slackapp.client import web_client
from slackapp.models import SlackInstallation
from slackapp.people import person_for_slack_user
from workspaces.birthdays import workspace_today

logger = logging.getLogger(__name__)

NOT_OPEN_TO_YOU = gettext_lazy("This button does not work for you.")
REFUSALS = {
    card_services.CLOSED: gettext_lazy("The card was delivered on the day; it takes no more wishes."),
    card_services.NOT_OPEN: gettext_lazy("The card is not open yet."),
    card_services.CARDS_OFF: gettext_lazy("This workspace does not collect group cards any more."),
}


def refusal_text(exc: ValidationError) -> str:
    """The refusal in the active language (the caller speaks to the person who clicked)."""
    return str(REFUSALS.get(exc.code or "", NOT_OPEN_TO_YOU))


def _ref_for(installation: SlackInstallation, token: str) -> CardRef | None:
    """The card a token names, only inside the installation's own workspace."""
    found = card_ref_from_token(token)
    if found is None or found[0].workspace_id != installation.workspace_id:
        return None
    return found[0]


def door_for(installation: SlackInstallation, *, user_id: str, token: str) -> card_services.WishDoor:
    """Whether the Slack user may write on the token's card today (raises the service's refusal)."""
    ref = _ref_for(installation, token)
    if ref is None:
        raise ValidationError(NOT_OPEN_TO_YOU, code=card_services.NOT_FOUND)
    author = person_for_slack_user(installation, user_id)
    return card_services.wish_check(ref=ref, author=author, today=workspace_today(installation.workspace))


def wish_modal_open(installation: SlackInstallation, *, user_id: str, token: str, trigger_id: str) -> str | None:
    """Opens the wish modal; the ephemeral reply when it cannot (refused, or Slack said no)."""
    try:
        door = door_for(installation, user_id=user_id, token=token)
    except ValidationError as exc:
        return refusal_text(exc)
    if door.ref.kind == "birthday":
        title = _("Your wish for *%(name)s*'s birthday. Delivered together with the team's on the day.")
    else:
        title = _("Your wish for *%(name)s*'s work anniversary. Delivered together with the team's on the day.")
    title %= {"name": escape(door.person.name)}
    view = card_blocks.wish_modal(title=title, token=token, own_text=door.own_text)
    try:
        web_client(installation.bot_token).views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        logger.warning("Slack views.open failed: %s", exc.response.get("error"))
        return _("I could not open the card (%(error)s). Please try again.") % {"error": exc.response.get("error")}
    return None


def wish_values(view: dict) -> tuple[str, str]:
    """The modal's (token, text) as plain strings (pure)."""

    def as_dict(item) -> dict:
        return item if isinstance(item, dict) else {}

    values = as_dict(as_dict(view.get("state")).get("values"))
    text = as_dict(as_dict(values.get(card_blocks.WISH_BLOCK)).get(card_blocks.WISH_ACTION)).get("value")
    token = view.get("private_metadata")
    return (token if isinstance(token, str) else ""), (text if isinstance(text, str) else "")


def wish_submission_errors(installation: SlackInstallation, *, user_id: str, view: dict) -> dict[str, str]:
    """The modal's errors by block (empty: it may be saved), checked in the request."""
    token, text = wish_values(view)
    try:
        door_for(installation, user_id=user_id, token=token)
        card_services.clean_wish_text(text)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            return {card_blocks.WISH_BLOCK: " ".join(exc.message_dict.get("text", exc.messages))}
        return {card_blocks.WISH_BLOCK: refusal_text(exc)}
    return {}


def wish_save(installation: SlackInstallation, *, user_id: str, token: str, text: str) -> bool:
    """Saves the modal's wish (the service checks everything again); False when refused meanwhile."""
    ref = _ref_for(installation, token)
    if ref is None:
        return False
    author = person_for_slack_user(installation, user_id)
    try:
        card_services.wish_save(ref=ref, author=author, text=text, today=workspace_today(installation.workspace))
    except ValidationError as exc:
        logger.info("Slack wish refused: %s", exc.code or exc.messages)
        return False
    return True
