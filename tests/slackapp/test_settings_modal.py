"""The App Home's "Open settings" for workspace admins: a Slack modal with the workspace's celebration
settings (views.open on the fake Slack), its signed submission changing them through the API's services
(audited as the admin's), the services' refusals answered as the modal's errors with nothing changed,
and only owners and admins of the installation's own workspace let in."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from auditlog.models import LogEntry

from cards.models import PrepSettings
from reminders.models import Reminder, ReminderKind
from slackapp import settings_modal as sm
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.slackapp.factories import SlackInstallationFactory
from tests.test_tenancy import workspace_data
from workspaces.models import CelebrationShift, Membership, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(alpha):
    """Alpha announces weekend celebrations the working day before (Bavarian holidays), digest at
    08:30, greetings in each person's zone, alerts 3 days ahead with a group card."""
    workspace = alpha["workspace"]
    workspace.celebration_shift = CelebrationShift.WORKING_DAY_BEFORE
    workspace.holiday_country, workspace.holiday_region = "DE", "BY"
    workspace.greet_in_own_zone = True
    workspace.notify_at = time(8, 30)
    workspace.save()
    PrepSettings.objects.create(workspace=workspace, alert_days=3, group_card=True)
    return alpha


def click(slack, slack_api, user_id: str):
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ALPHA"},
        "user": {"id": user_id},
        "trigger_id": "1337.42.abcd",
        "response_url": slack_api.url + "/actions/T0ALPHA/1/xyz",
        "actions": [{"action_id": "workspace_settings_open", "value": "workspace_settings_open"}],
        "view": {"type": "home"},
    }
    assert slack.interaction(payload).status_code == 200


def opened_view(slack, slack_api, run_tasks, user_id: str = "UADA") -> dict:
    click(slack, slack_api, user_id)
    run_tasks()
    (call,) = slack_api.calls("views.open")
    return call.body["view"]


def answers(view: dict) -> dict:
    """The modal's inputs as Slack's view state holds them when the user submits unchanged."""
    state: dict = {}
    for block in view["blocks"]:
        element = block["element"]
        kind, action = element["type"], element["action_id"]
        if kind == "timepicker":
            value = {"selected_time": element["initial_time"]}
        elif kind == "radio_buttons":
            value = {"selected_option": element.get("initial_option")}
        elif kind == "checkboxes":
            value = {"selected_options": element.get("initial_options", [])}
        else:
            value = {"value": element.get("initial_value")}
        state[block["block_id"]] = {action: {"type": kind, **value}}
    return state


def submit(slack, view: dict, user_id: str = "UADA", **changes):
    """Submits ``view`` as ``user_id`` with its initial values, ``changes`` ({block_id: value}) applied."""
    state = answers(view)
    for block_id, value in changes.items():
        ((action, current),) = state[block_id].items()
        state[block_id] = {action: {**current, **value}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T0ALPHA"},
        "user": {"id": user_id},
        "view": {
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": state},
        },
    }
    return slack.interaction(payload)


def checked(on: bool) -> dict:
    return {"selected_options": [{"value": "yes"}] if on else []}


def shift(value: str) -> dict:
    return {"selected_option": {"value": value}}


def _element(view: dict, block_id: str) -> dict:
    return next(block for block in view["blocks"] if block["block_id"] == block_id)["element"]


def test_the_button_opens_the_modal_with_the_current_values(configured, slack, slack_api, run_tasks):
    view = opened_view(slack, slack_api, run_tasks)

    assert view["callback_id"] == "workspace_settings"
    assert view["private_metadata"] == str(configured["workspace"].pk)
    assert _element(view, sm.TIME_BLOCK)["initial_time"] == "08:30"
    assert _element(view, sm.SHIFT_BLOCK)["initial_option"]["value"] == "working_day_before"
    assert _element(view, sm.COUNTRY_BLOCK)["initial_value"] == "DE"
    assert _element(view, sm.REGION_BLOCK)["initial_value"] == "BY"
    assert _element(view, sm.OWN_ZONE_BLOCK)["initial_options"][0]["value"] == "yes"
    assert _element(view, sm.ALERT_DAYS_BLOCK)["initial_value"] == "3"
    assert _element(view, sm.CARD_BLOCK)["initial_options"][0]["value"] == "yes"
    labels = [block["label"]["text"] for block in view["blocks"]]
    assert labels[0] == "The team's daily digest at (Europe/Berlin)"


def test_the_home_shows_the_button_to_admins_instead_of_the_staff_admins_link(alpha, slack, slack_api, run_tasks):
    event = {"type": "app_home_opened", "user": "UADA", "tab": "home"}
    slack.event({"type": "event_callback", "team_id": "T0ALPHA", "event_id": "EvS1", "event": event})
    run_tasks()
    home = slack_api.calls("views.publish")[-1].body["view"]
    (admin_actions,) = [block for block in home["blocks"] if block.get("block_id") == "admin"]
    assert [element["action_id"] for element in admin_actions["elements"]] == ["workspace_settings_open"]
    assert "/admin/" not in str(home)


def test_a_valid_submission_changes_the_settings_audited_and_republishes_the_home(
    configured, slack, slack_api, run_tasks
):
    workspace = configured["workspace"]
    view = opened_view(slack, slack_api, run_tasks)
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    published = len(slack_api.calls("views.publish"))

    response = submit(
        slack,
        view,
        digest_time={"selected_time": "07:15"},
        celebration_shift=shift("next_working_day"),
        holiday_country={"value": "at"},
        holiday_region={"value": ""},
        greet_in_own_zone=checked(False),
        alert_days={"value": "5"},
        group_card=checked(False),
    )

    assert response.status_code == 200
    assert response.content == b""
    workspace.refresh_from_db()
    assert (
        workspace.notify_at,
        workspace.celebration_shift,
        workspace.holiday_country,
        workspace.holiday_region,
        workspace.greet_in_own_zone,
    ) == (time(7, 15), "next_working_day", "AT", "", False)
    prep = PrepSettings.objects.get(workspace=workspace)
    assert (prep.alert_days, prep.group_card) == (5, False)
    # The workspace service's steps ran: the digest follows the new time.
    digest.refresh_from_db()
    assert digest.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).time() == time(7, 15)
    # Audited as the API audits it: the admin's change of the workspace and of the alerts.
    entry = LogEntry.objects.get_for_object(workspace).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == configured["admin"]
    assert entry.changes_dict["notify_at"] == ["08:30:00", "07:15:00"]
    assert entry.changes_dict["holiday_country"] == ["DE", "AT"]
    assert entry.additional_data["workspace_id"] == str(workspace.pk)
    prep_entry = LogEntry.objects.get_for_object(prep).latest("timestamp")
    assert prep_entry.actor == configured["admin"]
    assert prep_entry.changes_dict["alert_days"] == [3, 5]

    assert run_tasks() == ["slackapp.interaction"]
    calls = slack_api.calls("views.publish")
    assert len(calls) == published + 1
    assert calls[-1].body["user_id"] == "UADA"


def test_a_digest_with_its_own_time_is_changed_on_the_digest(configured, slack, slack_api, run_tasks):
    workspace = configured["workspace"]
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(at_time=time(10, 0))
    view = opened_view(slack, slack_api, run_tasks)
    assert _element(view, sm.TIME_BLOCK)["initial_time"] == "10:00"

    assert submit(slack, view, digest_time={"selected_time": "11:45"}).content == b""

    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    assert digest.at_time == time(11, 45)
    assert digest.next_run_at.astimezone(ZoneInfo("Europe/Berlin")).time() == time(11, 45)
    workspace.refresh_from_db()
    assert workspace.notify_at == time(8, 30)
    entry = LogEntry.objects.get_for_object(digest).latest("timestamp")
    assert (entry.actor, entry.changes_dict["at_time"]) == (configured["admin"], ["10:00:00", "11:45:00"])


def test_an_unchanged_submission_writes_nothing(configured, slack, slack_api, run_tasks):
    view = opened_view(slack, slack_api, run_tasks)
    before, entries = workspace_data(configured["workspace"]), LogEntry.objects.count()

    assert submit(slack, view).content == b""

    assert workspace_data(configured["workspace"]) == before
    assert LogEntry.objects.count() == entries


BAD_INPUTS = [
    ({"holiday_country": {"value": "XX"}}, sm.COUNTRY_BLOCK, "No holiday calendar for “XX”"),
    ({"holiday_region": {"value": "ZZ"}}, sm.REGION_BLOCK, "“ZZ” is not a region of DE"),
    ({"holiday_country": {"value": ""}, "holiday_region": {"value": "BY"}}, sm.REGION_BLOCK, "needs its country"),
    ({"alert_days": {"value": "31"}}, sm.ALERT_DAYS_BLOCK, "from 0 (no alerts) to 30"),
    ({"alert_days": {"value": "-1"}}, sm.ALERT_DAYS_BLOCK, "from 0 (no alerts) to 30"),
    ({"alert_days": {"value": "2.5"}}, sm.ALERT_DAYS_BLOCK, "from 0 (no alerts) to 30"),
    ({"alert_days": {"value": None}}, sm.ALERT_DAYS_BLOCK, "from 0 (no alerts) to 30"),
    ({"alert_days": {"value": "0"}, "group_card": checked(True)}, sm.CARD_BLOCK, "set at least 1 day"),
    ({"digest_time": {"selected_time": "25:00"}}, sm.TIME_BLOCK, "Pick a time."),
    ({"celebration_shift": shift("sometimes")}, sm.SHIFT_BLOCK, "Choose one of the three."),
    ({"holiday_country": {"value": ["DE"]}}, sm.COUNTRY_BLOCK, "Enter a code"),
]


@pytest.mark.parametrize(("changes", "block_id", "message"), BAD_INPUTS)
def test_bad_input_is_the_modals_error_and_changes_nothing(
    configured, slack, slack_api, run_tasks, changes, block_id, message
):
    view = opened_view(slack, slack_api, run_tasks)
    before, entries = workspace_data(configured["workspace"]), LogEntry.objects.count()

    # A valid change beside the bad one: rolled back with it.
    response = submit(slack, view, **{"celebration_shift": shift("on_day"), **changes})

    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block_id]
    assert message in body["errors"][block_id]
    assert workspace_data(configured["workspace"]) == before
    assert LogEntry.objects.count() == entries
    assert run_tasks() == []


def test_every_refused_field_is_named_at_once(configured, slack, slack_api, run_tasks):
    view = opened_view(slack, slack_api, run_tasks)

    errors = submit(slack, view, holiday_country={"value": "XX"}, alert_days={"value": "31"}).json()["errors"]

    assert set(errors) == {sm.COUNTRY_BLOCK, sm.ALERT_DAYS_BLOCK}


def test_a_member_can_neither_open_nor_submit(configured, slack, slack_api, run_tasks):
    admin_view = opened_view(slack, slack_api, run_tasks)
    click(slack, slack_api, "UBO")
    run_tasks()
    assert len(slack_api.calls("views.open")) == 1  # only the admin's
    refusals = [item.body["text"] for item in slack_api.received if item.path.startswith("/actions/")]
    assert refusals == ["Only the workspace's owners and admins can change its settings."]
    before, entries = workspace_data(configured["workspace"]), LogEntry.objects.count()

    response = submit(slack, admin_view, user_id="UBO", holiday_country={"value": "AT"})

    assert response.json() == {
        "response_action": "errors",
        "errors": {sm.TIME_BLOCK: "Only the workspace's owners and admins can change its settings."},
    }
    assert workspace_data(configured["workspace"]) == before
    assert LogEntry.objects.count() == entries


def test_an_admin_demoted_since_the_modal_opened_is_refused(configured, slack, slack_api, run_tasks):
    view = opened_view(slack, slack_api, run_tasks)
    Membership.objects.filter(user=configured["admin"]).update(role=Role.MEMBER)
    before = workspace_data(configured["workspace"])

    response = submit(slack, view, alert_days={"value": "7"})

    assert response.json()["response_action"] == "errors"
    assert workspace_data(configured["workspace"]) == before


def test_a_submission_changes_only_the_installations_own_workspace(configured, slack, slack_api, run_tasks):
    """Ada is also an owner of Beta (another Slack team); a modal naming Beta, sent for Alpha's team,
    changes neither."""
    beta = WorkspaceFactory(name="Beta")
    MembershipFactory(workspace=beta, user=configured["admin"], role=Role.OWNER)
    PersonFactory(workspace=beta, user=configured["admin"], slack_user_id="UADA")
    SlackInstallationFactory(workspace=beta, team_id="T0BETA", bot_token="xoxb-beta-token")
    view = opened_view(slack, slack_api, run_tasks)
    before_alpha, before_beta = workspace_data(configured["workspace"]), workspace_data(beta)

    response = submit(slack, {**view, "private_metadata": str(beta.pk)}, holiday_country={"value": "AT"})

    assert response.json()["response_action"] == "errors"
    assert workspace_data(configured["workspace"]) == before_alpha
    assert workspace_data(beta) == before_beta


def test_a_german_admin_reads_the_modal_and_its_errors_in_german(configured, slack, slack_api, run_tasks):
    dora = UserFactory(email="dora@alpha.example")
    MembershipFactory(workspace=configured["workspace"], user=dora, role=Role.OWNER)
    PersonFactory(workspace=configured["workspace"], user=dora, name="Dora", slack_user_id="UDORA", language="de")

    view = opened_view(slack, slack_api, run_tasks, user_id="UDORA")

    assert view["title"]["text"] == "Einstellungen"
    assert view["submit"]["text"] == "Speichern"
    labels = [block["label"]["text"] for block in view["blocks"]]
    assert labels[0] == "Tägliche Übersicht des Teams um (Europe/Berlin)"
    assert "Glückwunschkarte" in labels
    errors = submit(slack, view, user_id="UDORA", holiday_country={"value": "XX"}).json()["errors"]
    assert errors[sm.COUNTRY_BLOCK].startswith("Kein Feiertagskalender für „XX“")
