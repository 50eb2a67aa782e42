"""The App Home tab (views.publish on app_home_opened), its buttons, and the profile modal's submission."""

from datetime import date

import pytest

from slackapp import blocks
from tests.factories import PersonFactory
from workspaces.models import Consent

pytestmark = pytest.mark.django_db


def _open_home(slack, user_id, event_id):
    event = {
        "type": "event_callback",
        "team_id": "T0ALPHA",
        "event_id": event_id,
        "event": {"type": "app_home_opened", "user": user_id, "tab": "home"},
    }
    assert slack.event(event).status_code == 200


def _texts(view) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            parts.append(element["text"]["text"] + "|" + element.get("action_id", element.get("url", "")))
    return "\n".join(parts)


def test_home_for_a_member_shows_dates_choices_and_upcoming(alpha, slack, slack_api, run_tasks):
    bo = alpha["bo"]
    bo.birth_month, bo.birth_day, bo.birth_year = 7, 14, 1990
    bo.save()
    _open_home(slack, "UBO", "EvH1")
    run_tasks()
    call = slack_api.calls("views.publish")[-1]
    assert call.body["user_id"] == "UBO"
    text = _texts(call.body["view"])
    assert "*Birthday:* 14 July 1990" in text
    assert "Show my age|profile_show_age" in text
    assert "Pause celebrations|profile_pause" in text
    assert "Coming up" in text
    assert "For admins" not in text


def test_home_for_an_admin_has_the_summary_and_settings_button(alpha, slack, slack_api, run_tasks):
    pending = PersonFactory(workspace=alpha["workspace"], name="Pat Pending", birth_month=None, birth_day=None)
    pending.consent = Consent.PENDING
    pending.save()
    _open_home(slack, "UADA", "EvH2")
    run_tasks()
    text = _texts(slack_api.calls("views.publish")[-1].body["view"])
    assert "For admins" in text
    assert "*Without dates:* 2 (Bo Member, Pat Pending)" in text
    assert "*Consent pending:* 1" in text
    assert "*Next digest:*" in text
    assert "Open settings|workspace_settings_open" in text
    assert "/admin/" not in text


@pytest.mark.parametrize(
    ("action", "field", "value"),
    [
        ("profile_show_age", "show_age", True),
        ("profile_pause", "consent", Consent.DECLINED),
    ],
)
def test_home_buttons_change_the_person_and_republish(alpha, slack, slack_api, run_tasks, action, field, value):
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBO"},
        "actions": [{"action_id": action}],
        "view": {"type": "home"},
    }
    assert slack.interaction(payload).status_code == 200
    assert run_tasks() == ["slackapp.interaction"]
    alpha["bo"].refresh_from_db()
    assert getattr(alpha["bo"], field) == value
    assert slack_api.calls("views.publish")


def _submission(values: dict) -> dict:
    state = {
        "birthday": {"birthday_date": {"selected_date": values.get("birthday")}},
        "no_year": {"no_year_choice": {"selected_options": [{"value": "no_year"}] if values.get("no_year") else []}},
        "joined_on": {"joined_on_date": {"selected_date": values.get("joined")}},
        "show_age": {"show_age_choice": {"selected_option": {"value": values.get("show_age", "no")}}},
    }
    for kind in ("birthday", "anniversary"):
        if f"celebrate_{kind}" in values:
            choice = {"selected_option": {"value": values[f"celebrate_{kind}"]}}
            state[f"celebrate_{kind}"] = {f"celebrate_{kind}_choice": choice}
    return {
        "type": "view_submission",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBO"},
        "view": {"callback_id": "birthday_profile", "state": {"values": state}},
    }


def test_modal_submission_saves_dates_and_choices(alpha, slack, run_tasks):
    response = slack.interaction(
        _submission({"birthday": "1990-07-14", "no_year": True, "joined": "2020-02-03", "show_age": "yes"})
    )
    assert response.status_code == 200
    assert response.content == b""
    run_tasks()
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert (bo.birth_month, bo.birth_day, bo.birth_year, str(bo.joined_on), bo.show_age) == (
        7,
        14,
        None,
        "2020-02-03",
        True,
    )


@pytest.mark.parametrize(("birthday", "anniversary"), [("off", "private"), ("private", "public"), ("public", "off")])
def test_modal_what_to_celebrate_sets_each_kind_and_keeps_the_dates(alpha, slack, run_tasks, birthday, anniversary):
    submission = {
        "birthday": "1990-07-14",
        "joined": "2020-02-03",
        "celebrate_birthday": birthday,
        "celebrate_anniversary": anniversary,
    }
    assert slack.interaction(_submission(submission)).status_code == 200
    run_tasks()
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert (bo.birth_month, bo.birth_day, str(bo.joined_on)) == (7, 14, "2020-02-03")
    assert (bo.celebrate_birthday, bo.celebrate_anniversary) == (birthday, anniversary)


def test_modal_opens_with_the_persons_choices_and_an_unknown_choice_is_refused(alpha, slack, run_tasks):
    alpha["bo"].celebrate_anniversary = "private"
    view = blocks.profile_modal(alpha["bo"], today=date(2026, 6, 1))
    by_id = {block["block_id"]: block for block in view["blocks"]}
    assert by_id["celebrate_birthday"]["element"]["initial_option"]["value"] == "public"
    assert by_id["celebrate_anniversary"]["element"]["initial_option"]["value"] == "private"

    response = slack.interaction(_submission({"birthday": "1990-07-14", "celebrate_birthday": "loudly"}))
    assert response.json() == {
        "response_action": "errors",
        "errors": {"celebrate_birthday": "Choose one of the three."},
    }
    assert run_tasks() == []
    alpha["bo"].refresh_from_db()
    assert alpha["bo"].birth_month is None


def test_modal_errors_are_shown_in_the_modal_and_nothing_is_saved(alpha, slack, run_tasks):
    response = slack.interaction(_submission({"birthday": "2999-01-01"}))
    assert response.status_code == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {"birthday": "A birthday cannot be in the future."},
    }
    assert run_tasks() == []
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert bo.birth_month is None
