"""The App Home's part for workspace admins speaks each admin's language and shows the next digest
as the team's clock shows it: the day and time in words in the workspace's zone, the zone named."""

from datetime import UTC, datetime

import pytest

from reminders.models import Reminder, ReminderKind
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from tests.slackapp.test_home_and_modal import _open_home, _texts
from workspaces import services as workspace_services
from workspaces.models import Consent, Role

pytestmark = pytest.mark.django_db

# 09:00 on Friday 11 December in Auckland (UTC+13) is 20:00 on Thursday 10 December in UTC.
DIGEST_AT = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)


@pytest.fixture
def auckland(alpha):
    """Alpha in Auckland, its digest next at DIGEST_AT, one person pending; Ada reads English and
    Dora, a second admin, German."""
    workspace = workspace_services.workspace_update(workspace=alpha["workspace"], data={"timezone": "Pacific/Auckland"})
    assert Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST, active=True).exists()
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(next_run_at=DIGEST_AT)
    dora = UserFactory(email="dora@alpha.example")
    MembershipFactory(workspace=workspace, user=dora, role=Role.ADMIN)
    PersonFactory(
        workspace=workspace, user=dora, name="Dora Admin", email=dora.email, slack_user_id="UDORA", language="de"
    )
    pat = PersonFactory(workspace=workspace, name="Pat Pending", birth_month=None, birth_day=None, joined_on=None)
    pat.consent = Consent.PENDING
    pat.save()
    return alpha


def _admin_homes(slack, slack_api, run_tasks) -> dict[str, str]:
    _open_home(slack, "UADA", "EvA1")
    _open_home(slack, "UDORA", "EvA2")
    run_tasks()
    return {call.body["user_id"]: _texts(call.body["view"]) for call in slack_api.calls("views.publish")}


def test_each_admin_reads_the_summary_in_their_language_with_the_digest_in_the_teams_time(
    auckland, slack, slack_api, run_tasks
):
    homes = _admin_homes(slack, slack_api, run_tasks)

    english, german = homes["UADA"], homes["UDORA"]
    assert "*For admins*" in english
    assert "*Consent pending:* 1 · *declined:* 0" in english
    assert "*Next digest:* Friday 11 December, 09:00 (Pacific/Auckland)" in english
    assert "Open settings|workspace_settings_open" in english

    assert "*Für Admins*" in german
    assert "*Zustimmung offen:* 1 · *abgelehnt:* 0" in german
    assert "*Ohne Daten:* 2 (Bo Member, Pat Pending)" in german
    assert "*Nächste Übersicht:* Freitag, 11. Dezember, 09:00 Uhr (Pacific/Auckland)" in german
    assert "Einstellungen öffnen|workspace_settings_open" in german
    for home in (english, german):
        assert "2026-12-10" not in home
        assert "20:00" not in home


def test_no_digest_scheduled_is_said_in_the_admins_language(auckland, slack, slack_api, run_tasks):
    Reminder.objects.filter(workspace=auckland["workspace"], kind=ReminderKind.BIRTHDAY_DIGEST).update(active=False)

    homes = _admin_homes(slack, slack_api, run_tasks)

    assert "*Next digest:* none scheduled" in homes["UADA"]
    assert "*Nächste Übersicht:* keine geplant" in homes["UDORA"]
