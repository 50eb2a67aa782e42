"""The directory sync and each person's own time: the greeting row follows the zone Slack gives a
person, and a user deactivated in Slack has none (nothing of theirs fires) until they come back."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from scheduling.models import GreetingSchedule
from slackapp import directory
from tests.scheduling.test_own_time import at
from workspaces.services import workspace_update

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
BIRTHDAY = date(2028, 5, 17)  # the factory's 17 May, next after NOW


def row_of(person) -> tuple[str, date, datetime] | None:
    row = GreetingSchedule.objects.filter(person=person).first()
    return None if row is None else (row.zone, row.local_date, row.next_run_at)


def sync(installation) -> dict[str, int]:
    with time_machine.travel(NOW, tick=False):
        return directory.directory_sync(installation, now=NOW)


def test_the_sync_moves_a_row_to_the_slack_zone_and_a_deactivated_user_loses_it_until_back(alpha, slack_api):
    workspace, ada = alpha["workspace"], alpha["ada"]
    with time_machine.travel(NOW, tick=False):
        workspace_update(workspace=workspace, data={"greet_in_own_zone": True})
    assert row_of(ada) == ("Europe/Berlin", BIRTHDAY, at(BIRTHDAY, time(9), "Europe/Berlin"))
    slack_api.add_user("UADA", email="ada@alpha.example", name="Ada Lovelace", tz="America/Chicago")

    sync(alpha["installation"])
    assert row_of(ada) == ("America/Chicago", BIRTHDAY, at(BIRTHDAY, time(9), "America/Chicago"))

    slack_api.users[0]["deleted"] = True
    sync(alpha["installation"])
    assert row_of(ada) is None

    slack_api.users[0]["deleted"] = False
    sync(alpha["installation"])
    assert row_of(ada) == ("America/Chicago", BIRTHDAY, at(BIRTHDAY, time(9), "America/Chicago"))
