"""Consent-first onboarding (DMs with two buttons, quiet hours, rate limits) and the directory sync."""

import time
from datetime import UTC, datetime
from datetime import time as clock

import pytest
from django.utils import timezone as dj_timezone

from slackapp import directory, onboarding
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from tests.notifications.fakes import Reply
from workspaces.birthdays import birthday_list_upcoming
from workspaces.models import Consent, Role

pytestmark = pytest.mark.django_db


def _ask(alpha) -> dict:
    response = client_for(alpha["admin"]).post(f"/api/v1/workspaces/{alpha['workspace'].pk}/slack/onboarding")
    assert response.status_code == 200, response.content
    return response.json()


def test_admin_asks_members_without_dates_once(alpha, slack_api, run_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _ask(alpha) == {"asked": 1}  # Bo; Ada has a birthday
    assert run_tasks() == ["slackapp.onboarding_send"]
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert bo.consent == Consent.PENDING
    assert bo.consent_asked_at is not None
    assert slack_api.calls("conversations.open")[-1].body["users"] == "UBO"
    message = slack_api.calls("chat.postMessage")[-1].body
    assert message["channel"] == "DBO"
    assert "add your dates" in message["text"]
    actions = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["consent_accept", "consent_decline"]
    # Asking again asks nobody again, and a second send run sends nothing.
    assert _ask(alpha) == {"asked": 0}
    assert onboarding.onboarding_send(alpha["installation"]) == {"sent": 0, "failed": 0}
    assert len(slack_api.calls("chat.postMessage")) == 1


def test_members_may_not_ask(alpha):
    url = f"/api/v1/workspaces/{alpha['workspace'].pk}/slack/onboarding"
    assert client_for(alpha["member"]).post(url).status_code == 403


def test_no_thanks_declines_for_good(alpha, slack, slack_api, run_tasks):
    onboarding.onboarding_ask(alpha["installation"])
    onboarding.onboarding_send(alpha["installation"])
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBO"},
        "actions": [{"action_id": "consent_decline"}],
        "response_url": slack_api.url + "/actions/T0ALPHA/1/x",
    }
    assert slack.interaction(payload).status_code == 200
    run_tasks()
    bo = alpha["bo"]
    bo.refresh_from_db()
    assert bo.consent == Consent.DECLINED
    assert "won't be celebrated or asked again" in slack_api.received[-1].body["text"]
    # Never asked again, however often an admin asks.
    bo.consent_asked_at = None
    bo.save()
    assert onboarding.onboarding_ask(alpha["installation"]) == 0


def test_add_my_dates_opens_the_modal(alpha, slack, slack_api, run_tasks):
    onboarding.onboarding_ask(alpha["installation"])
    payload = {
        "type": "block_actions",
        "team": {"id": "T0ALPHA"},
        "user": {"id": "UBO"},
        "trigger_id": "9.9.9",
        "actions": [{"action_id": "consent_accept"}],
    }
    slack.interaction(payload)
    run_tasks()
    alpha["bo"].refresh_from_db()
    assert alpha["bo"].consent == Consent.ACTIVE
    assert slack_api.calls("views.open")[-1].body["trigger_id"] == "9.9.9"


def test_a_declined_person_is_not_celebrated(alpha):
    ada = alpha["ada"]
    assert [row.name for row in birthday_list_upcoming(workspace=alpha["workspace"], days=366)] == ["Ada Admin"]
    ada.consent = Consent.DECLINED
    ada.save()
    assert birthday_list_upcoming(workspace=alpha["workspace"], days=366) == []


def test_dms_wait_for_the_end_of_quiet_hours(alpha, slack_api):
    workspace = alpha["workspace"]  # Europe/Berlin
    workspace.quiet_hours_start, workspace.quiet_hours_end = clock(22, 0), clock(7, 0)
    workspace.save()
    onboarding.onboarding_ask(alpha["installation"])
    night = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 03:00 in Berlin
    assert onboarding.onboarding_send(alpha["installation"], now=night) == {"sent": 0, "failed": 0}
    assert not slack_api.calls("chat.postMessage")
    morning = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert onboarding.onboarding_send(alpha["installation"], now=morning) == {"sent": 1, "failed": 0}


def test_rate_limited_dms_obey_retry_after(alpha, slack_api):
    onboarding.onboarding_ask(alpha["installation"])
    slack_api.script(
        Reply(200, {"ok": True, "channel": {"id": "DBO"}}),
        Reply(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}),
    )
    started = time.monotonic()
    assert onboarding.onboarding_send(alpha["installation"]) == {"sent": 1, "failed": 0}
    assert time.monotonic() - started >= 1.0
    assert len(slack_api.calls("chat.postMessage")) == 2


def test_a_failed_dm_is_tried_again_later(alpha, slack_api):
    onboarding.onboarding_ask(alpha["installation"])
    slack_api.script(Reply(200, {"ok": False, "error": "user_not_found"}))
    assert onboarding.onboarding_send(alpha["installation"]) == {"sent": 0, "failed": 1}
    assert onboarding.onboarding_send(alpha["installation"]) == {"sent": 1, "failed": 0}


def test_onboarding_finds_members_by_email(alpha, slack_api):
    newcomer = UserFactory(email="cy@alpha.example")
    MembershipFactory(workspace=alpha["workspace"], user=newcomer, role=Role.MEMBER)
    cy = PersonFactory(
        workspace=alpha["workspace"], user=newcomer, email=newcomer.email, name="Cy", birth_month=None, birth_day=None
    )
    slack_api.add_user("UCY", email="cy@alpha.example", name="Cy Cyan")
    assert onboarding.onboarding_ask(alpha["installation"]) == 2
    cy.refresh_from_db()
    assert (cy.slack_user_id, cy.consent) == ("UCY", Consent.PENDING)
    assert slack_api.calls("users.lookupByEmail")[-1].body["email"] == "cy@alpha.example"


def test_directory_sync_matches_by_email_and_pages(alpha, slack_api):
    client_person = PersonFactory(workspace=alpha["workspace"], name="Dee", email="dee@alpha.example", slack_user_id="")
    slack_api.add_user("UADA", email="ada@alpha.example", name="Ada Lovelace", tz="Europe/London")
    slack_api.add_user("UDEE", email="Dee@Alpha.example", name="Dee Dune", tz="America/Chicago")
    slack_api.add_user("UBO", email="bo@alpha.example", name="Bo Member", deleted=True)
    slack_api.add_user("UOUT", email="stranger@else.example", name="Stranger")
    slack_api.add_user("UBOT", name="A Bot")
    slack_api.users[-1]["is_bot"] = True
    result = directory.directory_sync(alpha["installation"])
    assert result == {"seen": 5, "matched": 3}
    assert len(slack_api.calls("users.list")) == 3  # pages of two
    client_person.refresh_from_db()
    assert (client_person.slack_user_id, client_person.slack_display_name, client_person.timezone) == (
        "UDEE",
        "Dee",
        "America/Chicago",
    )
    ada = alpha["ada"]
    ada.refresh_from_db()
    assert (ada.slack_display_name, ada.timezone) == ("Ada", "Europe/London")
    bo = alpha["bo"]
    bo.refresh_from_db()
    deactivated_at = bo.slack_deactivated_at
    assert deactivated_at is not None
    assert alpha["workspace"].people.filter(slack_user_id="UOUT").count() == 0
    # A second run changes nothing (the deactivation keeps its time).
    directory.directory_sync(alpha["installation"], now=dj_timezone.now())
    bo.refresh_from_db()
    assert bo.slack_deactivated_at == deactivated_at


def test_a_deactivated_slack_user_is_not_celebrated_and_comes_back(alpha, slack, slack_api, run_tasks):
    ada_user = {
        "id": "UADA",
        "team_id": "T0ALPHA",
        "deleted": True,
        "tz": "Europe/Berlin",
        "profile": {"email": "ada@alpha.example", "display_name": "Ada"},
    }
    slack.event(
        {
            "type": "event_callback",
            "team_id": "T0ALPHA",
            "event_id": "EvU1",
            "event": {"type": "user_change", "user": ada_user},
        }
    )
    run_tasks()
    assert birthday_list_upcoming(workspace=alpha["workspace"], days=366) == []
    slack.event(
        {
            "type": "event_callback",
            "team_id": "T0ALPHA",
            "event_id": "EvU2",
            "event": {"type": "user_change", "user": {**ada_user, "deleted": False}},
        }
    )
    run_tasks()
    assert [row.name for row in birthday_list_upcoming(workspace=alpha["workspace"], days=366)] == ["Ada Admin"]


def test_status_api(alpha):
    response = client_for(alpha["admin"]).get(f"/api/v1/workspaces/{alpha['workspace'].pk}/slack/")
    assert response.status_code == 200
    body = response.json()
    assert (body["installed"], body["active"], body["team_id"], body["channel_id"]) == (
        True,
        True,
        "T0ALPHA",
        "C0CELEB",
    )
    assert body["consent"] == {"active": 2, "pending": 0, "declined": 0}
    assert "bot_token" not in response.content.decode()
    assert "xoxb" not in response.content.decode()


def test_onboarding_without_an_installation_is_a_clear_400(db, slack_api):
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory()
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    response = client_for(owner).post(f"/api/v1/workspaces/{workspace.pk}/slack/onboarding")
    assert response.status_code == 400
    assert "not installed" in response.content.decode()
