"""``/birthday`` end to end: a signed command, the queued task run, the ephemeral answer posted to
the fake Slack's response_url, the person changed through the workspace services (audited)."""

import calendar
from datetime import date

import pytest
from auditlog.models import LogEntry

from tests.factories import PersonFactory
from workspaces.birthdays import workspace_today
from workspaces.models import Consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_command(alpha, slack, slack_api, run_tasks):
    def run(text: str, user_id: str = "UBO", team_id: str = "T0ALPHA") -> str:
        before = len(slack_api.received)
        response = slack.command(team_id, user_id, text, response_url=slack_api.url + "/commands/T0ALPHA/1/abc")
        assert response.status_code == 200
        assert response.content in (b"", b"{}") or response.json()["response_type"] == "ephemeral"
        run_tasks()
        answers = [item for item in slack_api.received[before:] if item.path.startswith("/commands/")]
        for answer in answers:
            assert answer.body["response_type"] == "ephemeral"
        return answers[-1].body["text"] if answers else ""

    return run


@pytest.mark.parametrize(
    ("text", "month", "day", "year", "said"),
    [
        ("set 14 July", 7, 14, None, "14 July"),
        ("set July 14th", 7, 14, None, "14 July"),
        ("set 14.07.", 7, 14, None, "14 July"),
        ("set 07-14", 7, 14, None, "14 July"),
        ("set 14 July 1990", 7, 14, 1990, "14 July 1990"),
        ("SET 29 Feb", 2, 29, None, "29 February"),
    ],
)
def test_set_saves_and_confirms_what_was_understood(alpha, run_command, text, month, day, year, said):
    reply = run_command(text)
    assert f"*{said}*" in reply
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert (bo.birth_month, bo.birth_day, bo.birth_year) == (month, day, year)
    entry = LogEntry.objects.get_for_object(bo).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert "birth_month" in entry.changes_dict


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("set 30 February", "February has no day 30"),
        ("set the day after tomorrow", "could not read"),
        ("set", "Tell me the date"),
    ],
)
def test_bad_dates_are_explained_and_nothing_is_written(alpha, run_command, text, says):
    reply = run_command(text)
    assert says in reply
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert bo.birth_month is None


def test_clear_pause_resume(alpha, run_command):
    run_command("set 3 March")
    assert "forgot" in run_command("clear")
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert bo.birth_month is None
    assert "won't be celebrated" in run_command("pause")
    bo.refresh_from_db()
    assert bo.consent == Consent.DECLINED
    assert "celebrated again" in run_command("resume")
    bo.refresh_from_db()
    assert bo.consent == Consent.ACTIVE


def test_setting_a_date_after_declining_is_the_person_starting_it(alpha, run_command):
    run_command("pause")
    run_command("set 5 May")
    alpha["bo"].refresh_from_db()
    assert alpha["bo"].consent == Consent.ACTIVE


def test_unknown_words_get_help(run_command):
    reply = run_command("dance")
    assert "did not understand" in reply
    assert "/birthday upcoming" in reply


def test_upcoming_lists_30_days_with_privacy(alpha, run_command):
    today = workspace_today(alpha["workspace"])
    soon = date.fromordinal(today.toordinal() + 3)
    later = date.fromordinal(today.toordinal() + 45)
    PersonFactory(
        workspace=alpha["workspace"],
        name="Cy <!channel>",
        birth_month=soon.month,
        birth_day=soon.day,
        birth_year=1990,
        show_age=False,
    )
    PersonFactory(
        workspace=alpha["workspace"],
        name="Di Open",
        birth_month=soon.month,
        birth_day=soon.day,
        birth_year=1980,
        show_age=True,
    )
    PersonFactory(workspace=alpha["workspace"], name="Ed Later", birth_month=later.month, birth_day=later.day)
    declined = PersonFactory(
        workspace=alpha["workspace"], name="Fay Declined", birth_month=soon.month, birth_day=soon.day
    )
    declined.consent = Consent.DECLINED
    declined.save()
    reply = run_command("upcoming")  # Bo is a plain member: ages only where shown
    assert "Cy &lt;!channel&gt;" in reply
    assert "<!channel>" not in reply
    assert f"turns {soon.year - 1980}" in reply
    assert f"turns {soon.year - 1990}" not in reply
    assert "Ed Later" not in reply
    assert "Fay Declined" not in reply
    admin_reply = run_command("upcoming", user_id="UADA")  # an admin sees every age
    assert f"turns {soon.year - 1990}" in admin_reply


def test_upcoming_shows_the_announcement_day_leaves_out_off_and_keeps_private_to_admins_and_self(alpha, run_command):
    workspace = alpha["workspace"]
    workspace.celebration_shift = "next_working_day"
    workspace.save()
    today = workspace_today(workspace)
    saturday = date.fromordinal(today.toordinal() + 1 + (5 - today.weekday() - 1) % 7)  # the next Saturday
    monday = date.fromordinal(saturday.toordinal() + 2)
    soon = date.fromordinal(today.toordinal() + 2)
    PersonFactory(workspace=workspace, name="Sam Saturday", birth_month=saturday.month, birth_day=saturday.day)
    PersonFactory(
        workspace=workspace, name="Oz Off", birth_month=soon.month, birth_day=soon.day, celebrate_birthday="off"
    )
    bo = alpha["bo"]
    bo.birth_month, bo.birth_day, bo.celebrate_birthday = soon.month, soon.day, "private"
    bo.save()

    def day(when: date) -> str:
        return f"{calendar.day_abbr[when.weekday()]} {when.day} {calendar.month_abbr[when.month]}"

    reply = run_command("upcoming")  # Bo, a member, sees his own private birthday
    assert f"• {day(monday)} (for {day(saturday)}): Sam Saturday — birthday" in reply
    assert "Oz Off" not in reply
    assert "<@UBO> — birthday (private: a greeting only)" in reply
    assert "<@UBO>" in run_command("upcoming", user_id="UADA")  # an admin sees it
    PersonFactory(workspace=workspace, name="Cy Member", slack_user_id="UCY", birth_month=None, birth_day=None)
    assert "<@UBO>" not in run_command("upcoming", user_id="UCY")  # another member does not


def test_no_text_opens_the_modal(alpha, run_command, slack_api):
    alpha["bo"].birth_month, alpha["bo"].birth_day = 2, 29
    alpha["bo"].save()
    assert run_command("") == ""
    call = slack_api.calls("views.open")[-1]
    assert call.body["trigger_id"] == "1337.42.abcd"
    view = call.body["view"]
    assert view["callback_id"] == "birthday_profile"
    blocks = {block["block_id"]: block for block in view["blocks"]}
    assert blocks["birthday"]["element"]["initial_date"] == "2000-02-29"
    assert blocks["no_year"]["element"]["initial_options"][0]["value"] == "no_year"
    assert {"birthday", "no_year", "joined_on", "show_age", "celebrate_birthday", "celebrate_anniversary"} <= set(
        blocks
    )
    assert call.headers["Authorization"] == "Bearer xoxb-fake-bot-token-0001"


def test_a_new_slack_user_is_matched_by_email_or_added(alpha, run_command, slack_api):
    client_person = PersonFactory(
        workspace=alpha["workspace"], name="Gil", email="gil@alpha.example", birth_month=None, birth_day=None
    )
    slack_api.users = []
    slack_api.add_user("UGIL", email="GIL@alpha.example", name="Gil Green", tz="America/New_York")
    slack_api.add_user("UHAL", email="hal@alpha.example", name="Hal Hill", tz="Asia/Tokyo")
    run_command("set 1 June", user_id="UGIL")
    client_person.refresh_from_db()
    assert (client_person.slack_user_id, client_person.birth_month, client_person.timezone) == (
        "UGIL",
        6,
        "America/New_York",
    )
    run_command("set 2 June", user_id="UHAL")
    hal = alpha["workspace"].people.get(slack_user_id="UHAL")
    assert (hal.name, hal.email, hal.birth_day, hal.timezone) == ("Hal Hill", "hal@alpha.example", 2, "Asia/Tokyo")


def test_a_slack_guest_is_not_added_by_typing_a_command(alpha, run_command, slack_api):
    guest = slack_api.add_user("UGUEST", email="guest@partner.example", name="Guest User")
    guest["is_restricted"] = True
    reply = run_command("set 1 June", user_id="UGUEST")
    assert "could not tell who you are" in reply
    assert not alpha["workspace"].people.filter(slack_user_id="UGUEST").exists()
