"""Block Kit views: the profile modal, the App Home tab, the consent question (plain data).

Built in the active language: the callers build each view inside ``speaking_to`` its reader."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from birthdaybuddy.i18n import month_day_text
from workspaces.models import Celebrate, Consent, Person

PROFILE_MODAL = "birthday_profile"
ACTION_EDIT = "profile_edit"
ACTION_SHOW_AGE = "profile_show_age"
ACTION_HIDE_AGE = "profile_hide_age"
ACTION_PAUSE = "profile_pause"
ACTION_RESUME = "profile_resume"
ACTION_CONSENT_YES = "consent_accept"
ACTION_CONSENT_NO = "consent_decline"
ACTION_OPEN_SETTINGS = "workspace_settings_open"

BIRTHDAY_BLOCK, BIRTHDAY_ACTION = "birthday", "birthday_date"
NO_YEAR_BLOCK, NO_YEAR_ACTION = "no_year", "no_year_choice"
JOINED_BLOCK, JOINED_ACTION = "joined_on", "joined_on_date"
SHOW_AGE_BLOCK, SHOW_AGE_ACTION = "show_age", "show_age_choice"
# "What to celebrate": one choice per kind (public / private / off), never a date cleared.
CELEBRATE_BIRTHDAY_BLOCK, CELEBRATE_BIRTHDAY_ACTION = "celebrate_birthday", "celebrate_birthday_choice"
CELEBRATE_ANNIVERSARY_BLOCK, CELEBRATE_ANNIVERSARY_ACTION = "celebrate_anniversary", "celebrate_anniversary_choice"
CELEBRATE_CHOICES = (
    (Celebrate.PUBLIC, gettext_lazy("With the team (the channel's post and a greeting to me)")),
    (Celebrate.PRIVATE, gettext_lazy("Privately (only a greeting to me)")),
    (Celebrate.OFF, gettext_lazy("Not at all")),
)


def escape(text: str) -> str:
    """Slack's markup characters in data (names) shown as text, never as pings or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str | Promise) -> dict:
    return {"type": "plain_text", "text": str(text)[:150], "emoji": True}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": str(text)[:3000]}}


def button(text: str, action_id: str, *, style: str | None = None, value: str = "") -> dict:
    element = {"type": "button", "text": plain(text), "action_id": action_id, "value": value or action_id}
    if style:
        element["style"] = style
    return element


def option(text: str | Promise, value: str) -> dict:
    return {"text": plain(text), "value": value}


def describe_birthday(person: Person) -> str:
    if person.birth_month is None or person.birth_day is None:
        return _("not set")
    return month_day_text(person.birth_month, person.birth_day, person.birth_year)


def describe_joined(person: Person) -> str:
    joined = person.joined_on
    return month_day_text(joined.month, joined.day, joined.year) if joined else _("not set")


def profile_modal(person: Person | None, *, today: date) -> dict:
    """The modal ``/birthday`` opens: birthday (year optional), work start, show age, what to celebrate."""
    birthday: dict[str, Any] = {
        "type": "datepicker",
        "action_id": BIRTHDAY_ACTION,
        "placeholder": plain(_("Your birthday")),
    }
    joined: dict[str, Any] = {
        "type": "datepicker",
        "action_id": JOINED_ACTION,
        "placeholder": plain(_("Your first day at work")),
    }
    no_year_options = [option(_("Keep my birth year to myself (don't store it)"), "no_year")]
    no_year: dict[str, Any] = {"type": "checkboxes", "action_id": NO_YEAR_ACTION, "options": no_year_options}
    show_age_options = [option(_("Yes, others may see my age"), "yes"), option(_("No, keep my age private"), "no")]
    show_age: dict[str, Any] = {"type": "radio_buttons", "action_id": SHOW_AGE_ACTION, "options": show_age_options}
    celebrate_options = [option(text, value) for value, text in CELEBRATE_CHOICES]
    celebrate_birthday: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": CELEBRATE_BIRTHDAY_ACTION,
        "options": celebrate_options,
        "initial_option": celebrate_options[0],
    }
    celebrate_anniversary: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": CELEBRATE_ANNIVERSARY_ACTION,
        "options": celebrate_options,
        "initial_option": celebrate_options[0],
    }
    values: list[str] = [str(value) for value, _ in CELEBRATE_CHOICES]
    if person is not None:
        if person.birth_month is not None and person.birth_day is not None:
            year = person.birth_year or 2000  # a leap year: Feb 29 stays valid
            birthday["initial_date"] = date(year, person.birth_month, person.birth_day).isoformat()
            if person.birth_year is None:
                no_year["initial_options"] = no_year_options
        if person.joined_on:
            joined["initial_date"] = person.joined_on.isoformat()
        show_age["initial_option"] = show_age_options[0 if person.show_age else 1]
        if person.celebrate_birthday in values:
            celebrate_birthday["initial_option"] = celebrate_options[values.index(person.celebrate_birthday)]
        if person.celebrate_anniversary in values:
            celebrate_anniversary["initial_option"] = celebrate_options[values.index(person.celebrate_anniversary)]
    return {
        "type": "modal",
        "callback_id": PROFILE_MODAL,
        "title": plain(_("My dates")),
        "submit": plain(_("Save")),
        "close": plain(_("Cancel")),
        "blocks": [
            {
                "type": "input",
                "block_id": BIRTHDAY_BLOCK,
                "optional": True,
                "label": plain(_("Birthday")),
                "element": birthday,
            },
            {
                "type": "input",
                "block_id": NO_YEAR_BLOCK,
                "optional": True,
                "label": plain(_("Birth year")),
                "element": no_year,
            },
            {
                "type": "input",
                "block_id": JOINED_BLOCK,
                "optional": True,
                "label": plain(_("Work start date")),
                "element": joined,
            },
            {
                "type": "input",
                "block_id": SHOW_AGE_BLOCK,
                "optional": True,
                "label": plain(_("Show my age")),
                "element": show_age,
            },
            {
                "type": "input",
                "block_id": CELEBRATE_BIRTHDAY_BLOCK,
                "optional": True,
                "label": plain(_("Celebrate my birthday")),
                "element": celebrate_birthday,
            },
            {
                "type": "input",
                "block_id": CELEBRATE_ANNIVERSARY_BLOCK,
                "optional": True,
                "label": plain(_("Celebrate my work anniversary")),
                "element": celebrate_anniversary,
            },
        ],
    }


def consent_question(workspace_name: str) -> tuple[str, list[dict]]:
    """The onboarding DM: plain-text fallback and blocks with the two buttons."""
    text = _(
        "Hi! %(workspace)s celebrates birthdays and work anniversaries with BirthdayBuddy. "
        "Would you like to add your dates? You choose what is shown, and you can stop any time."
    ) % {"workspace": workspace_name}
    blocks = [
        section(escape(text)),
        {
            "type": "actions",
            "block_id": "consent",
            "elements": [
                button(_("Add my dates"), ACTION_CONSENT_YES, style="primary"),
                button(_("No thanks"), ACTION_CONSENT_NO),
            ],
        },
    ]
    return text, blocks


def home_view(
    *,
    person: Person | None,
    upcoming_lines: list[str],
    admin_summary: list[str] | None,
) -> dict:
    """The App Home tab: my dates and choices (with buttons), the team's upcoming celebrations,
    and for workspace admins a summary and the button that opens the settings modal."""
    blocks: list[dict] = [{"type": "header", "text": plain("🎂 BirthdayBuddy")}]
    if person is None:
        blocks.append(section(_("You are not in this team's BirthdayBuddy yet. Use *Edit my dates* to add yourself.")))
        blocks.append({"type": "actions", "elements": [button(_("Edit my dates"), ACTION_EDIT, style="primary")]})
    else:
        celebrated = person.consent != Consent.DECLINED
        lines = [
            _("*Birthday:* %(date)s") % {"date": describe_birthday(person)},
            _("*Work start:* %(date)s") % {"date": describe_joined(person)},
            _("*Age shown to others:* %(answer)s") % {"answer": _("yes") if person.show_age else _("no")},
            _("*Celebrations:* %(state)s")
            % {"state": _("on") if celebrated else _("paused — nobody is told about your dates")},
        ]
        blocks.append(section("\n".join(lines)))
        actions = [button(_("Edit my dates"), ACTION_EDIT, style="primary")]
        actions.append(
            button(_("Hide my age"), ACTION_HIDE_AGE) if person.show_age else button(_("Show my age"), ACTION_SHOW_AGE)
        )
        actions.append(
            button(_("Pause celebrations"), ACTION_PAUSE)
            if celebrated
            else button(_("Resume celebrations"), ACTION_RESUME)
        )
        blocks.append({"type": "actions", "block_id": "my_choices", "elements": actions})
    blocks.append({"type": "divider"})
    blocks.append(
        section(
            _("*Coming up (next 30 days)*") + "\n" + ("\n".join(upcoming_lines) or _("Nothing in the next 30 days."))
        )
    )
    if admin_summary is not None:
        blocks.append({"type": "divider"})
        blocks.append(section(_("*For admins*") + "\n" + "\n".join(admin_summary)))
        blocks.append(
            {"type": "actions", "block_id": "admin", "elements": [button(_("Open settings"), ACTION_OPEN_SETTINGS)]}
        )
    return {"type": "home", "blocks": blocks}
