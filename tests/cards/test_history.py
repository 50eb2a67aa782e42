"""The notification history never shows the celebrated person the preparation of their own day."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.models import Notification
from scheduling import services
from tests.cards.conftest import FRIDAY
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def history(team, who, **params):
    url = f"/api/v1/workspaces/{team['workspace'].pk}/notifications/"
    response = client_for(team[who].user).get(url, params)
    assert response.status_code == 200
    return response.json()["results"]


def test_an_admin_who_is_celebrated_does_not_see_the_alerts_about_her_until_her_day_is_over(team):
    berlin = ZoneInfo("Europe/Berlin")
    with time_machine.travel(datetime.combine(FRIDAY - timedelta(days=2), time(10), tzinfo=berlin), tick=False):
        _check_hidden_until_the_day_is_over(team)


def _check_hidden_until_the_day_is_over(team):
    services.digest_run_now(workspace=team["workspace"], day=FRIDAY - timedelta(days=2))
    alerts = Notification.objects.filter(idempotency_key__contains=":alert:")
    assert alerts.count() == 2

    alert_ids = {str(pk) for pk in alerts.values_list("pk", flat=True)}
    assert alert_ids <= {row["id"] for row in history(team, "ada")}  # another admin sees them
    assert not alert_ids & {row["id"] for row in history(team, "cleo")}  # Cleo (an admin) does not
    one = next(iter(alert_ids))
    detail = client_for(team["cleo"].user).get(f"/api/v1/workspaces/{team['workspace'].pk}/notifications/{one}/")
    assert detail.status_code == 404

    last_minute = datetime.combine(FRIDAY, time(23, 59), tzinfo=ZoneInfo("Europe/Berlin"))
    with time_machine.travel(last_minute, tick=False):
        assert not alert_ids & {row["id"] for row in history(team, "cleo")}
    after = datetime.combine(FRIDAY + timedelta(days=1), time(0, 1), tzinfo=ZoneInfo("Europe/Berlin"))
    with time_machine.travel(after, tick=False):
        assert alert_ids <= {row["id"] for row in history(team, "cleo")}
