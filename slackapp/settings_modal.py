"""The workspace's celebration settings in Slack: the App Home's "Open settings" opens a modal for
owners and admins; its submission changes the settings through the services the REST API uses.

Shown and changed: the digest's local time (its own ``at_time`` if it has one, else the workspace's
``notify_at``), ``celebration_shift``, ``holiday_country`` / ``holiday_region``,
``greet_in_own_zone`` (``workspaces.services.workspace_update``, ``reminders.services.reminder_update``)
and the advance alert's days and group card (``cards.services.prep_settings_update``). The
submission is saved in the request, in one transaction: any refusal rolls everything back and is
answered as the modal's errors (Slack shows them under the field). The role is read again on
submit, and the workspace is always the installation's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from slack_sdk.errors import SlackApiError

from audit.context import acting_as
from cards import services as card_services
from cards.models import MAX_ALERT_DAYS
from reminders import services as reminder_services
from reminders.models import Reminder, ReminderKind
from slackapp.blocks import option, plain
from slackapp.client import web_client
from slackapp.models import SlackInstallation
from slackapp.people import person_for_slack_user, person_is_admin
from workspaces import services as workspace_services
from workspaces.models import CelebrationShift, Workspace

logger = logging.getLogger(__name__)

SETTINGS_MODAL = "workspace_settings"
TIME_BLOCK, TIME_ACTION = "digest_time", "digest_time_pick"
SHIFT_BLOCK, SHIFT_ACTION = "celebration_shift", "celebration_shift_choice"
COUNTRY_BLOCK, COUNTRY_ACTION = "holiday_country", "holiday_country_code"
REGION_BLOCK, REGION_ACTION = "holiday_region", "holiday_region_code"
OWN_ZONE_BLOCK, OWN_ZONE_ACTION = "greet_in_own_zone", "greet_in_own_zone_choice"
ALERT_DAYS_BLOCK, ALERT_DAYS_ACTION = "alert_days", "alert_days_number"
CARD_BLOCK, CARD_ACTION = "group_card", "group_card_choice"
YES = "yes"

SHIFT_CHOICES = (
    (CelebrationShift.ON_DAY, gettext_lazy("On the day")),
    (CelebrationShift.WORKING_DAY_BEFORE, gettext_lazy("On the working day before")),
    (CelebrationShift.NEXT_WORKING_DAY, gettext_lazy("On the next working day")),
)
ADMINS_ONLY = gettext_lazy("Only the workspace's owners and admins can change its settings.")
# Which field of the services' refusals is shown under which block.
FIELD_BLOCKS = {
    "notify_at": TIME_BLOCK,
    "at_time": TIME_BLOCK,
    "celebration_shift": SHIFT_BLOCK,
    "holiday_country": COUNTRY_BLOCK,
    "holiday_region": REGION_BLOCK,
    "greet_in_own_zone": OWN_ZONE_BLOCK,
    "alert_days": ALERT_DAYS_BLOCK,
    "group_card": CARD_BLOCK,
}
WHOLE_NUMBER = re.compile(r"-?\d{1,4}")
TIME_TEXT = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _digest_of(workspace: Workspace) -> Reminder | None:
    return Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).first()


def digest_time(workspace: Workspace, digest: Reminder | None) -> time:
    """The digest's local time: its own ``at_time``, else the workspace's ``notify_at``."""
    return (digest.at_time if digest is not None else None) or workspace.notify_at


def _checkbox(action_id: str, text: str, *, checked: bool) -> dict:
    choices = [option(text, YES)]
    element: dict[str, Any] = {"type": "checkboxes", "action_id": action_id, "options": choices}
    if checked:
        element["initial_options"] = choices
    return element


def _input(block_id: str, label: str, element: dict, *, optional: bool = False, hint: str = "") -> dict:
    block = {"type": "input", "block_id": block_id, "optional": optional, "label": plain(label), "element": element}
    if hint:
        block["hint"] = plain(hint)
    return block


def settings_modal(workspace: Workspace) -> dict:
    """The modal with the workspace's current values, in the active language."""
    prep = card_services.prep_settings_of(workspace)
    shift_options = [option(text, str(value)) for value, text in SHIFT_CHOICES]
    shift: dict[str, Any] = {"type": "radio_buttons", "action_id": SHIFT_ACTION, "options": shift_options}
    chosen = [item for item in shift_options if item["value"] == workspace.celebration_shift]
    if chosen:
        shift["initial_option"] = chosen[0]
    country: dict[str, Any] = {"type": "plain_text_input", "action_id": COUNTRY_ACTION, "max_length": 3}
    region: dict[str, Any] = {"type": "plain_text_input", "action_id": REGION_ACTION, "max_length": 10}
    if workspace.holiday_country:
        country["initial_value"] = workspace.holiday_country
    if workspace.holiday_region:
        region["initial_value"] = workspace.holiday_region
    days = {
        "type": "number_input",
        "action_id": ALERT_DAYS_ACTION,
        "is_decimal_allowed": False,
        "min_value": "0",
        "max_value": str(MAX_ALERT_DAYS),
        "initial_value": str(prep.alert_days),
    }
    at = digest_time(workspace, _digest_of(workspace))
    picker = {"type": "timepicker", "action_id": TIME_ACTION, "initial_time": f"{at:%H:%M}"}
    return {
        "type": "modal",
        "callback_id": SETTINGS_MODAL,
        "private_metadata": str(workspace.pk),
        "title": plain(_("Settings")),
        "submit": plain(_("Save")),
        "close": plain(_("Cancel")),
        "blocks": [
            _input(
                TIME_BLOCK,
                _("The team's daily digest at (%(zone)s)") % {"zone": workspace.timezone},
                picker,
            ),
            _input(SHIFT_BLOCK, _("Celebrations on weekends and public holidays are announced"), shift),
            _input(
                COUNTRY_BLOCK,
                _("Public holidays of the country"),
                country,
                optional=True,
                hint=_("A two-letter code such as DE or AT; empty: weekends only."),
            ),
            _input(
                REGION_BLOCK,
                _("And of its region"),
                region,
                optional=True,
                hint=_("The region's code, such as BY for Bavaria; empty: the country's holidays only."),
            ),
            _input(
                OWN_ZONE_BLOCK,
                _("Personal greetings"),
                _checkbox(
                    OWN_ZONE_ACTION,
                    _("Greet each person at that time in their own time zone"),
                    checked=workspace.greet_in_own_zone,
                ),
                optional=True,
            ),
            _input(
                ALERT_DAYS_BLOCK,
                _("Advance alert: days before a celebration"),
                days,
                hint=_("0 turns the alerts off (at most %(max)s).") % {"max": MAX_ALERT_DAYS},
            ),
            _input(
                CARD_BLOCK,
                _("Group card"),
                _checkbox(
                    CARD_ACTION, _("Collect the team's wishes from the alert until the day"), checked=prep.group_card
                ),
                optional=True,
            ),
        ],
    }


def settings_modal_open(installation: SlackInstallation, *, user_id: str, trigger_id: str) -> str | None:
    """Opens the modal for an owner or admin; the ephemeral reply when it cannot (the caller speaks to them)."""
    if not person_is_admin(installation, person_for_slack_user(installation, user_id)):
        return str(ADMINS_ONLY)
    view = settings_modal(installation.workspace)
    try:
        web_client(installation.bot_token).views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        logger.warning("Slack views.open failed: %s", exc.response.get("error"))
        return _("I could not open the settings (%(error)s). Please try again.") % {"error": exc.response.get("error")}
    return None


# --- the submission -------------------------------------------------------------------------


def _as_dict(item) -> dict:
    return item if isinstance(item, dict) else {}


def settings_values(view: dict) -> tuple[dict, dict[str, str]]:
    """The modal's answer as the services' values, and the errors of answers that are not values
    at all (a time that is no time, a number that is no number; pure, in the active language)."""
    state = _as_dict(_as_dict(view.get("state")).get("values"))

    def value(block: str, action: str) -> dict:
        return _as_dict(_as_dict(state.get(block)).get(action))

    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    picked = value(TIME_BLOCK, TIME_ACTION).get("selected_time")
    if isinstance(picked, str) and TIME_TEXT.fullmatch(picked):
        values["time"] = time.fromisoformat(picked)
    else:
        errors[TIME_BLOCK] = _("Pick a time.")
    shift = _as_dict(value(SHIFT_BLOCK, SHIFT_ACTION).get("selected_option")).get("value")
    if shift in CelebrationShift.values:
        values["celebration_shift"] = shift
    else:
        errors[SHIFT_BLOCK] = _("Choose one of the three.")
    for field, block, action in (
        ("holiday_country", COUNTRY_BLOCK, COUNTRY_ACTION),
        ("holiday_region", REGION_BLOCK, REGION_ACTION),
    ):
        text = value(block, action).get("value")
        if text is None or isinstance(text, str):
            values[field] = (text or "").strip()
        else:
            errors[block] = _("Enter a code, such as DE.")
    for field, block, action in (
        ("greet_in_own_zone", OWN_ZONE_BLOCK, OWN_ZONE_ACTION),
        ("group_card", CARD_BLOCK, CARD_ACTION),
    ):
        selected = value(block, action).get("selected_options") or []
        values[field] = isinstance(selected, list) and any(_as_dict(item).get("value") == YES for item in selected)
    days = value(ALERT_DAYS_BLOCK, ALERT_DAYS_ACTION).get("value")
    if isinstance(days, str) and WHOLE_NUMBER.fullmatch(days.strip()):
        values["alert_days"] = int(days)
    else:
        errors[ALERT_DAYS_BLOCK] = _alert_days_error()
    return values, errors


def _alert_days_error() -> str:
    return _("A whole number from 0 (no alerts) to %(max)s.") % {"max": MAX_ALERT_DAYS}


def _message(field: str, error: ValidationError, values: dict) -> str:
    """A service's refusal in the reader's language (by its code; else its own words)."""
    code = error.code or ""
    if field == "holiday_country" and code == "unknown_country":
        return _("No holiday calendar for “%(code)s”: use a two-letter country code such as DE or AT.") % {
            "code": values.get("holiday_country", "")
        }
    if field == "holiday_region" and code == "unknown_region":
        return _("“%(region)s” is not a region of %(country)s with its own holidays.") % {
            "region": values.get("holiday_region", ""),
            "country": values.get("holiday_country", "").upper(),
        }
    if field == "holiday_region" and code == "region_without_country":
        return _("A region needs its country.")
    if field == "alert_days":
        return _alert_days_error()
    if field == "group_card":
        return _("The group card is collected from the advance alert on: set at least 1 day.")
    return " ".join(error.messages)


def _errors_of(exc: ValidationError, values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not hasattr(exc, "error_dict"):
        return {TIME_BLOCK: " ".join(exc.messages)}
    for field, field_errors in exc.error_dict.items():
        block = FIELD_BLOCKS.get(field, TIME_BLOCK)
        text = " ".join(_message(field, error, values) for error in field_errors)
        errors[block] = f"{errors[block]} {text}" if block in errors else text
    return errors


class _Refused(Exception):
    """Rolls the whole submission back."""


def settings_submit(installation: SlackInstallation, *, user_id: str, view: dict) -> dict[str, str]:
    """Saves the modal's answer for an owner or admin of the installation's workspace (the role read
    now, not when the modal opened); the modal's errors by block (nothing saved) when anything is
    refused, empty when saved."""
    person = person_for_slack_user(installation, user_id)
    actor = person.user if person is not None else None
    if not person_is_admin(installation, person) or view.get("private_metadata") != str(installation.workspace_id):
        return {TIME_BLOCK: str(ADMINS_ONLY)}
    values, errors = settings_values(view)
    if errors:
        return errors
    try:
        with acting_as(actor), transaction.atomic():
            errors = _save(Workspace.objects.get(pk=installation.workspace_id), values)
            if errors:
                raise _Refused(errors)
    except _Refused as refused:
        return refused.args[0]
    return {}


def _save(workspace: Workspace, values: dict) -> dict[str, str]:
    """Each service in its own savepoint, so every refusal is collected; the caller rolls back on any."""
    errors: dict[str, str] = {}
    digest = _digest_of(workspace)
    own_time = digest.at_time if digest is not None else None
    fields = ("celebration_shift", "holiday_country", "holiday_region", "greet_in_own_zone")
    data = {field: values[field] for field in fields if values[field] != getattr(workspace, field)}
    if own_time is None and values["time"] != workspace.notify_at:
        data["notify_at"] = values["time"]
    prep = card_services.prep_settings_of(workspace)
    prep_data = {
        field: values[field] for field in ("alert_days", "group_card") if values[field] != getattr(prep, field)
    }
    steps: list[Callable[[], object]] = []
    if data:
        steps.append(lambda: workspace_services.workspace_update(workspace=workspace, data=data))
    if digest is not None and own_time is not None and values["time"] != own_time:
        steps.append(lambda: reminder_services.reminder_update(reminder=digest, data={"at_time": values["time"]}))
    if prep_data:
        steps.append(lambda: card_services.prep_settings_update(workspace=workspace, data=prep_data))
    for step in steps:
        try:
            with transaction.atomic():
                step()
        except ValidationError as exc:
            for block, text in _errors_of(exc, values).items():
                errors[block] = f"{errors[block]} {text}" if block in errors else text
    return errors
