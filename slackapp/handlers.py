"""What the app does for a request from Slack, once it is verified and routed (run in Celery).

Every function takes the installation the request's team is bound to; people are looked up
in its workspace only.
"""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from birthdaybuddy.i18n import moment_text, short_day_text
from cards import blocks as card_blocks
from notifications.validators import webhook_url_error
from reminders.models import Reminder
from slackapp import blocks
from slackapp import cards as slack_cards
from slackapp.client import web_client
from slackapp.dateparse import DateNotUnderstood, ParsedDate, parse_date
from slackapp.models import SlackInstallation
from slackapp.people import person_for_slack_user, person_for_slack_user_or_create, person_is_admin, speaking_to
from slackapp.settings_modal import settings_modal_open
from workspaces import services as workspace_services
from workspaces import slack_people
from workspaces.birthdays import BIRTHDAY, birthday_list_upcoming, birthday_rows_for_viewer, workspace_today
from workspaces.models import Celebrate, Consent, Person
from workspaces.selectors import workspace_role_of

logger = logging.getLogger(__name__)


def help_text() -> str:
    """The commands, in the active language (the words after the command stay English: they are
    what the command understands)."""
    lines = [
        _("*%(command)s* — open a form with your dates and choices"),
        _("*%(command)s set 14 July* — your birthday (also `July 14th`, `14.07.`, `07-14`, with or without a year)"),
        _("*%(command)s clear* — forget your birthday"),
        _("*%(command)s pause* / *%(command)s resume* — don't celebrate me / celebrate me again"),
        _("*%(command)s upcoming* — celebrations in the next 30 days"),
        _("*%(command)s help* — this list"),
    ]
    return "\n".join(line % {"command": settings.SLACK_COMMAND_NAME} for line in lines)


# --- /birthday ---------------------------------------------------------------------------


def command_run(installation: SlackInstallation, payload: dict) -> str | None:
    """Does what ``/birthday <text>`` asks and answers (ephemeral, through ``response_url``) in the
    language of the person who typed it."""
    user_id = payload.get("user_id", "")
    with speaking_to(installation, person_for_slack_user(installation, user_id)):
        return _command_run(installation, payload, user_id=user_id)


def _command_run(installation: SlackInstallation, payload: dict, *, user_id: str) -> str | None:
    text = (payload.get("text") or "").strip()
    word, _sep, rest = text.partition(" ")
    word = word.lower()
    if not text:
        reply = open_profile_modal(installation, user_id=user_id, trigger_id=payload.get("trigger_id", ""))
    elif word == "help":
        reply = help_text()
    elif word == "upcoming":
        reply = upcoming_text(installation, user_id=user_id)
    elif word in ("set", "clear", "pause", "resume"):
        person = person_for_slack_user_or_create(installation, user_id)
        if person is None:
            reply = _("I could not tell who you are in this team's BirthdayBuddy; please ask an admin to add you.")
        else:
            reply = _command_change(person, word, rest.strip(), today=workspace_today(installation.workspace))
    else:
        reply = _("I did not understand “%(text)s”.") % {"text": blocks.escape(text[:40])} + "\n" + help_text()
    if reply:
        respond(payload.get("response_url", ""), reply)
    return reply


def _command_change(person: Person, word: str, rest: str, *, today: date) -> str:
    if word == "set":
        if not rest:
            return _("Tell me the date, e.g. `%(command)s set 14 July`.") % {"command": settings.SLACK_COMMAND_NAME}
        try:
            parsed = parse_date(rest, today=today)
        except DateNotUnderstood as exc:
            return str(exc)
        return birthday_set(person, parsed)
    if word == "clear":
        workspace_services.person_update(
            person=person, data={"birth_month": None, "birth_day": None, "birth_year": None}
        )
        return _("Done: I forgot your birthday.")
    if word == "pause":
        slack_people.person_consent_set(person=person, consent=Consent.DECLINED)
        return _("Done: you won't be celebrated. `%(command)s resume` turns it back on.") % {
            "command": settings.SLACK_COMMAND_NAME
        }
    slack_people.person_consent_set(person=person, consent=Consent.ACTIVE)
    return _("Welcome back: you will be celebrated again.")


def birthday_set(person: Person, parsed: ParsedDate) -> str:
    try:
        workspace_services.person_update(
            person=person,
            data={"birth_month": parsed.month, "birth_day": parsed.day, "birth_year": parsed.year},
        )
    except ValidationError as exc:
        return _("That date cannot be saved: %(reason)s") % {"reason": " ".join(exc.messages)}
    if person.consent != Consent.ACTIVE:
        slack_people.person_consent_set(person=person, consent=Consent.ACTIVE)
    said = _("Got it: your birthday is *%(date)s*.") % {"date": parsed.describe()}
    if parsed.year is None:
        return said
    return said + " " + (_("Your age is shown to others.") if person.show_age else _("Your age stays private."))


def respond(response_url: str, text: str) -> None:
    """An ephemeral answer to the user who sent the command or pressed the button."""
    if not response_url or webhook_url_error(response_url) is not None:
        logger.warning("Slack response_url refused or missing")
        return
    client = WebhookClient(response_url, timeout=settings.SLACK_TIMEOUT_SECONDS)
    answer = client.send(text=text, response_type="ephemeral", replace_original=False)
    if answer.status_code != 200:
        logger.warning("Slack response_url answered %s: %s", answer.status_code, answer.body)


def open_profile_modal(installation: SlackInstallation, *, user_id: str, trigger_id: str) -> str | None:
    person = person_for_slack_user(installation, user_id)
    view = blocks.profile_modal(person, today=workspace_today(installation.workspace))
    try:
        web_client(installation.bot_token).views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        logger.warning("Slack views.open failed: %s", exc.response.get("error"))
        return _("I could not open the form (%(error)s). Try `%(command)s set 14 July`.") % {
            "error": exc.response.get("error"),
            "command": settings.SLACK_COMMAND_NAME,
        }
    return None


def upcoming_text(installation: SlackInstallation, *, user_id: str) -> str:
    lines = upcoming_lines(installation, user_id=user_id)
    return _("*Coming up (next 30 days)*") + "\n" + ("\n".join(lines) if lines else _("Nothing in the next 30 days."))


def upcoming_lines(installation: SlackInstallation, *, user_id: str) -> list[str]:
    """The next 30 days as the API shows them to this person (ages only where they may see them),
    each on the day the digest announces it (with its own date when a weekend or holiday moves it).

    A kind celebrated "off" is not listed; a private one only to admins and to the person themself.
    """
    workspace = installation.workspace
    viewer_person = person_for_slack_user(installation, user_id)
    viewer = viewer_person.user if viewer_person is not None else None
    role = workspace_role_of(workspace=workspace, user=viewer) if viewer is not None else None
    rows = birthday_rows_for_viewer(
        birthday_list_upcoming(workspace=workspace, days=30),
        viewer=viewer,
        viewer_role=role,
        own_person_id=viewer_person.pk if viewer_person is not None else None,
    )
    lines = []
    for row in rows:
        who = (
            f"<@{row['person']['slack_user_id']}>"
            if row["person"]["slack_user_id"]
            else blocks.escape(row["person"]["name"])
        )
        when = date.fromisoformat(row["date"])
        announced = date.fromisoformat(row["announced_on"])
        day = short_day_text(announced)
        if announced != when:
            day = pgettext("announced on one day for another", "%(announced)s (for %(day)s)") % {
                "announced": day,
                "day": short_day_text(when),
            }
        if row["kind"] == BIRTHDAY:
            what = _("turns %(age)s") % {"age": row["age"]} if row["age"] is not None else _("birthday")
        else:
            what = ngettext("%(years)s year with the team", "%(years)s years with the team", row["years"]) % {
                "years": row["years"]
            }
        private = " " + _("(private: a greeting only)") if row["private"] else ""
        lines.append(f"• {day}: {who} — {what}{private}")
    return lines


# --- interactivity ------------------------------------------------------------------------


def modal_values(view: dict) -> dict:
    """The modal's answer as plain values, or ``{"errors": {block_id: message}}`` (pure: answered in the request)."""

    def as_dict(item) -> dict:
        return item if isinstance(item, dict) else {}

    state = as_dict(as_dict(view.get("state")).get("values"))

    def value(block: str, action: str) -> dict:
        return as_dict(as_dict(state.get(block)).get(action))

    def text(item) -> str | None:
        return item if isinstance(item, str) and len(item) <= 20 else None

    errors: dict[str, str] = {}
    birthday = text(value(blocks.BIRTHDAY_BLOCK, blocks.BIRTHDAY_ACTION).get("selected_date"))
    joined = text(value(blocks.JOINED_BLOCK, blocks.JOINED_ACTION).get("selected_date"))
    no_year = bool(value(blocks.NO_YEAR_BLOCK, blocks.NO_YEAR_ACTION).get("selected_options"))
    show_age = as_dict(value(blocks.SHOW_AGE_BLOCK, blocks.SHOW_AGE_ACTION).get("selected_option")).get("value")
    result: dict = {"show_age": None if show_age is None else show_age == "yes"}
    # What to celebrate sets each kind's choice; the dates stay as they are (turning a kind
    # "off" and back on later needs no date typed again).
    for field, block, action in (
        ("celebrate_birthday", blocks.CELEBRATE_BIRTHDAY_BLOCK, blocks.CELEBRATE_BIRTHDAY_ACTION),
        ("celebrate_anniversary", blocks.CELEBRATE_ANNIVERSARY_BLOCK, blocks.CELEBRATE_ANNIVERSARY_ACTION),
    ):
        choice = as_dict(value(block, action).get("selected_option")).get("value")
        if choice is None:
            result[field] = None
        elif choice in Celebrate.values:
            result[field] = choice
        else:
            errors[block] = _("Choose one of the three.")
    try:
        born = date.fromisoformat(birthday) if birthday else None
    except (TypeError, ValueError):
        born, errors[blocks.BIRTHDAY_BLOCK] = None, _("Pick a date.")
    try:
        result["joined_on"] = date.fromisoformat(joined) if joined else None
    except (TypeError, ValueError):
        errors[blocks.JOINED_BLOCK] = _("Pick a date.")
    if born is not None:
        result.update(birth_month=born.month, birth_day=born.day, birth_year=None if no_year else born.year)
    else:
        result.update(birth_month=None, birth_day=None, birth_year=None)
    if born is not None and not no_year and born > date.today():  # noqa: DTZ011 - a calendar date, any zone
        errors[blocks.BIRTHDAY_BLOCK] = _("A birthday cannot be in the future.")
    if result.get("joined_on") and result["joined_on"].year < 1900:
        errors[blocks.JOINED_BLOCK] = _("Pick a date after 1900.")
    return {"errors": errors} if errors else result


def modal_save(installation: SlackInstallation, *, user_id: str, values: dict) -> Person | None:
    person = person_for_slack_user_or_create(installation, user_id)
    if person is None:
        return None
    data = {key: values[key] for key in ("birth_month", "birth_day", "birth_year", "joined_on")}
    for field in ("show_age", "celebrate_birthday", "celebrate_anniversary"):
        if values.get(field) is not None:
            data[field] = values[field]
    workspace_services.person_update(person=person, data=data)
    slack_people.person_consent_set(person=person, consent=Consent.ACTIVE)
    home_publish(installation, user_id=user_id)
    return person


def block_action(installation: SlackInstallation, payload: dict) -> None:
    """A button pressed: the ephemeral answers in the language of the person who pressed it."""
    user_id = (payload.get("user") or {}).get("id", "")
    with speaking_to(installation, person_for_slack_user(installation, user_id)):
        _block_action(installation, payload, user_id=user_id)


def _block_action(installation: SlackInstallation, payload: dict, *, user_id: str) -> None:
    for action in payload.get("actions") or []:
        action_id = action.get("action_id")
        if action_id == card_blocks.ACTION_ADD_WISHES:
            reply = slack_cards.wish_modal_open(
                installation, user_id=user_id, token=action.get("value", ""), trigger_id=payload.get("trigger_id", "")
            )
            if reply:
                respond(payload.get("response_url", ""), reply)
            continue
        if action_id == blocks.ACTION_OPEN_SETTINGS:
            reply = settings_modal_open(installation, user_id=user_id, trigger_id=payload.get("trigger_id", ""))
            if reply:
                respond(payload.get("response_url", ""), reply)
            continue
        if action_id in (blocks.ACTION_EDIT, blocks.ACTION_CONSENT_YES):
            if action_id == blocks.ACTION_CONSENT_YES:
                person = person_for_slack_user(installation, user_id)
                if person is not None:
                    slack_people.person_consent_set(person=person, consent=Consent.ACTIVE)
            reply = open_profile_modal(installation, user_id=user_id, trigger_id=payload.get("trigger_id", ""))
            if reply:
                respond(payload.get("response_url", ""), reply)
            continue
        person = person_for_slack_user(installation, user_id)
        if person is None:
            continue
        if action_id == blocks.ACTION_CONSENT_NO:
            slack_people.person_consent_set(person=person, consent=Consent.DECLINED)
            respond(
                payload.get("response_url", ""),
                _("No problem: you won't be celebrated or asked again. `%(command)s resume` if you change your mind.")
                % {"command": settings.SLACK_COMMAND_NAME},
            )
        elif action_id in (blocks.ACTION_SHOW_AGE, blocks.ACTION_HIDE_AGE):
            workspace_services.person_update(person=person, data={"show_age": action_id == blocks.ACTION_SHOW_AGE})
        elif action_id in (blocks.ACTION_PAUSE, blocks.ACTION_RESUME):
            consent = Consent.DECLINED if action_id == blocks.ACTION_PAUSE else Consent.ACTIVE
            slack_people.person_consent_set(person=person, consent=consent)
    if payload.get("view", {}).get("type") == "home" or any(
        a.get("action_id")
        in (blocks.ACTION_SHOW_AGE, blocks.ACTION_HIDE_AGE, blocks.ACTION_PAUSE, blocks.ACTION_RESUME)
        for a in payload.get("actions") or []
    ):
        home_publish(installation, user_id=user_id)


# --- App Home -----------------------------------------------------------------------------


def admin_summary(installation: SlackInstallation) -> list[str]:
    """The App Home's lines for a workspace admin, in the active language (the caller speaks to the admin)."""
    workspace = installation.workspace
    people = Person.objects.for_workspace(workspace)
    without = people.celebrated().filter(birth_month__isnull=True, joined_on__isnull=True)
    names = ", ".join(blocks.escape(name) for name in without.order_by("name").values_list("name", flat=True)[:10])
    pending = people.filter(consent=Consent.PENDING).count()
    declined = people.filter(consent=Consent.DECLINED).count()
    next_digest = Reminder.objects.filter(workspace=workspace, active=True, kind="birthday_digest").aggregate(
        at=Min("next_run_at")
    )["at"]
    count = without.count()
    lines = [
        _("*Without dates:* %(count)s") % {"count": count}
        + (f" ({names}{'…' if count > 10 else ''})" if names else ""),
        _("*Consent pending:* %(pending)s · *declined:* %(declined)s") % {"pending": pending, "declined": declined},
        # When the digest goes out, as the team's clock shows it (the workspace's zone, named).
        _("*Next digest:* %(when)s")
        % {"when": moment_text(next_digest, tz=ZoneInfo(workspace.timezone)) if next_digest else _("none scheduled")},
    ]
    return lines


def home_publish(installation: SlackInstallation, *, user_id: str) -> dict:
    """Publishes the App Home tab of ``user_id``, in their language."""
    person = person_for_slack_user(installation, user_id)
    is_admin = person_is_admin(installation, person)
    with speaking_to(installation, person):
        view = blocks.home_view(
            person=person,
            upcoming_lines=upcoming_lines(installation, user_id=user_id),
            admin_summary=admin_summary(installation) if is_admin else None,
        )
    web_client(installation.bot_token).views_publish(user_id=user_id, view=view)
    return view
