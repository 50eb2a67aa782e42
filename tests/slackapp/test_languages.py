"""The Slack app speaks its reader's language: the person's own (``Person.language``), else the
workspace's locale. Through signed requests, the queued tasks and the fake Slack, as Slack sees it;
an English reader in the same workspace still reads English."""

import re
from datetime import timedelta

import pytest

from slackapp import onboarding
from tests.factories import PersonFactory
from workspaces.birthdays import workspace_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def bo_de(alpha):
    """Bo reads German; Ada (the admin) keeps the workspace's English."""
    bo = alpha["bo"]
    bo.language = "de"
    bo.save()
    return bo


@pytest.fixture
def answer(alpha, slack, slack_api, run_tasks):
    """The ephemeral answer to ``/birthday <text>`` typed by ``user_id`` (inline or through response_url)."""

    def run(text: str, user_id: str) -> str:
        before = len(slack_api.received)
        response = slack.command("T0ALPHA", user_id, text, response_url=slack_api.url + "/commands/T0ALPHA/1/abc")
        assert response.status_code == 200
        if response.content not in (b"", b"{}"):
            return response.json()["text"]
        run_tasks()
        answers = [item for item in slack_api.received[before:] if item.path.startswith("/commands/")]
        return answers[-1].body["text"]

    return run


def _open_home(slack, user_id: str, event_id: str) -> None:
    event = {
        "type": "event_callback",
        "team_id": "T0ALPHA",
        "event_id": event_id,
        "event": {"type": "app_home_opened", "user": user_id, "tab": "home"},
    }
    assert slack.event(event).status_code == 200


def _texts(view: dict) -> str:
    parts = [view.get("title", {}).get("text", "")]
    for block in view["blocks"]:
        for key in ("text", "label"):
            if key in block:
                parts.append(block[key]["text"])
        element = block.get("element", {})
        parts.extend(option["text"]["text"] for option in element.get("options", []))
        if "placeholder" in element:
            parts.append(element["placeholder"]["text"])
        parts.extend(e["text"]["text"] + "|" + e.get("action_id", e.get("url", "")) for e in block.get("elements", []))
    return "\n".join(parts)


def test_set_answers_in_the_persons_language_and_reads_german_month_names(alpha, bo_de, answer):
    reply = answer("set 14. Juli 1990", "UBO")
    assert reply == "Verstanden: Ihr Geburtstag ist am *14. Juli 1990*. Ihr Alter bleibt privat."
    bo_de.refresh_from_db()
    assert (bo_de.birth_month, bo_de.birth_day, bo_de.birth_year) == (7, 14, 1990)
    # The English admin of the same workspace, typing the German date.
    assert answer("set 14. Juli", "UADA") == "Got it: your birthday is *14 July*."
    alpha["ada"].refresh_from_db()
    assert (alpha["ada"].birth_month, alpha["ada"].birth_day) == (7, 14)


@pytest.mark.parametrize(
    ("text", "german", "english"),
    [
        ("set 30. Februar", "Februar hat keinen 30. Tag.", "February has no day 30."),
        ("set übermorgen", "nicht als Datum lesen", "could not read"),
        ("set", "Nennen Sie mir das Datum", "Tell me the date"),
        ("clear", "Erledigt: Ich habe Ihren Geburtstag vergessen.", "Done: I forgot your birthday."),
        ("pause", "Sie werden nicht gefeiert", "you won't be celebrated"),
        ("resume", "Willkommen zurück", "Welcome back"),
        ("dance", "Ich habe „dance“ nicht verstanden.", "I did not understand “dance”."),
    ],
)
def test_errors_and_changes_are_answered_in_each_persons_language(alpha, bo_de, answer, text, german, english):
    assert german in answer(text, "UBO")
    assert english in answer(text, "UADA")


def test_help_is_answered_in_the_request_in_each_persons_language(alpha, bo_de, answer, run_tasks):
    german = answer("help", "UBO")
    assert "*/birthday set 14. Juli* \N{EN DASH} Ihr Geburtstag" in german
    assert "*/birthday help* \N{EN DASH} diese Liste" in german
    english = answer("help", "UADA")
    assert "*/birthday set 14 July* — your birthday" in english
    assert run_tasks() == []  # answered inline, nothing queued


def test_the_workspace_locale_is_the_default_and_a_persons_own_language_wins(alpha, answer):
    workspace = alpha["workspace"]
    workspace.locale = "de-AT"
    workspace.save()
    assert "diese Liste" in answer("help", "UBO")  # no language of his own: the workspace's
    ada = alpha["ada"]
    ada.language = "en"
    ada.save()
    assert "this list" in answer("help", "UADA")


def test_upcoming_lists_days_in_the_readers_language(alpha, bo_de, answer):
    soon = workspace_today(alpha["workspace"]) + timedelta(days=3)
    ada = alpha["ada"]
    ada.birth_month, ada.birth_day, ada.birth_year = soon.month, soon.day, None
    ada.save()
    german = answer("upcoming", "UBO")
    assert german.startswith("*Demnächst (nächste 30 Tage)*\n")
    assert re.search(r"^• \w\w, \d{1,2}\. \w+.*: <@UADA> — Geburtstag$", german, re.MULTILINE), german
    english = answer("upcoming", "UADA")
    assert english.startswith("*Coming up (next 30 days)*\n")
    assert re.search(r"^• \w{3} \d{1,2} \w{3}.*: <@UADA> — birthday$", english, re.MULTILINE), english


def test_app_home_in_each_persons_language(alpha, bo_de, slack, slack_api, run_tasks):
    bo_de.birth_month, bo_de.birth_day, bo_de.birth_year = 3, 3, 1990
    bo_de.save()
    _open_home(slack, "UBO", "EvL1")
    _open_home(slack, "UADA", "EvL2")
    run_tasks()
    views = {call.body["user_id"]: _texts(call.body["view"]) for call in slack_api.calls("views.publish")}
    assert "*Geburtstag:* 3. März 1990" in views["UBO"]
    assert "*Erster Arbeitstag:* nicht angegeben" in views["UBO"]
    assert "Mein Alter zeigen|profile_show_age" in views["UBO"]
    assert "Feiern pausieren|profile_pause" in views["UBO"]
    assert "Demnächst (nächste 30 Tage)" in views["UBO"]
    assert "Pause celebrations" in views["UADA"]
    assert "*For admins*" in views["UADA"]
    assert "*Consent pending:* 0 · *declined:* 0" in views["UADA"]


def test_profile_modal_in_each_persons_language(alpha, bo_de, slack, slack_api, run_tasks):
    assert slack.command("T0ALPHA", "UBO", "").status_code == 200
    assert slack.command("T0ALPHA", "UADA", "").status_code == 200
    run_tasks()
    german, english = (_texts(call.body["view"]) for call in slack_api.calls("views.open")[-2:])
    for expected in ("Meine Daten", "Geburtstag", "Mein Geburtsjahr für mich behalten", "Meinen Geburtstag feiern"):
        assert expected in german
    assert "Privat (nur ein Glückwunsch an mich)" in german
    assert slack_api.calls("views.open")[-2].body["view"]["submit"]["text"] == "Speichern"
    assert "My dates" in english
    assert "Privately (only a greeting to me)" in english


def test_modal_errors_in_the_persons_language(alpha, bo_de, slack, run_tasks):
    submission = {
        "type": "view_submission",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBO"},
        "view": {
            "callback_id": "birthday_profile",
            "state": {"values": {"birthday": {"birthday_date": {"selected_date": "2999-01-01"}}}},
        },
    }
    response = slack.interaction(submission)
    assert response.json()["errors"] == {"birthday": "Ein Geburtstag kann nicht in der Zukunft liegen."}
    assert run_tasks() == []


def test_consent_dm_in_each_persons_language(alpha, bo_de, slack_api):
    PersonFactory(
        workspace=alpha["workspace"],
        name="Cy English",
        slack_user_id="UCY",
        birth_month=None,
        birth_day=None,
        birth_year=None,
        joined_on=None,
    )
    assert onboarding.onboarding_ask(alpha["installation"]) == 2
    assert onboarding.onboarding_send(alpha["installation"]) == {"sent": 2, "failed": 0}
    messages = {call.body["channel"]: call.body for call in slack_api.calls("chat.postMessage")}
    assert messages["DBO"]["text"].startswith("Hallo! Alpha feiert Geburtstage und Dienstjubiläen")
    buttons = [e["text"]["text"] for b in messages["DBO"]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Meine Daten eintragen", "Nein danke"]
    assert messages["DCY"]["text"].startswith("Hi! Alpha celebrates birthdays")


def test_button_answers_in_the_persons_language(alpha, bo_de, slack, slack_api, run_tasks):
    for user_id in ("UBO", "UADA"):
        payload = {
            "type": "block_actions",
            "team": {"id": "T0ALPHA"},
            "user": {"id": user_id},
            "actions": [{"action_id": "card_add_wishes", "value": "not-a-card"}],
            "response_url": slack_api.url + "/actions/T0ALPHA/1/x",
        }
        assert slack.interaction(payload).status_code == 200
    run_tasks()
    answers = [item.body["text"] for item in slack_api.received if item.path.startswith("/actions/")]
    assert answers[-2:] == ["Diese Schaltfläche funktioniert für Sie nicht.", "This button does not work for you."]
