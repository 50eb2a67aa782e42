"""The tick plans a whole batch of digests at once: alerts and cards add a fixed number of queries per
batch, whatever the number of workspaces, celebrations and recipients in it; the tick path writes them."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from birthdaybuddy.timerules.recurrence import daily_occurrence_on
from cards.links import CardRef
from cards.models import PrepSettings
from cards.services import wish_save
from notifications.models import ChannelConfig, Notification
from reminders import schedule
from reminders.models import Reminder, ReminderKind
from scheduling.planning import Planner
from scheduling.tick import tick
from tests.cards.conftest import FRIDAY, member_person
from tests.factories import WorkspaceFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db

ALERT_DAY = FRIDAY - timedelta(days=2)


def workspaces_with_alerts(count: int, *, first: int = 0) -> list[Reminder]:
    reminders = []
    for n in range(first, first + count):
        workspace = WorkspaceFactory(timezone="Europe/Berlin", celebration_shift="working_day_before")
        ChannelConfig.objects.create(
            workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T0/B0/secret"
        )
        member_person(workspace, name=f"Olga{n} Owner", role=Role.OWNER)
        member_person(workspace, name=f"Ada{n} Admin", role=Role.ADMIN)
        member_person(workspace, name=f"Cleo{n} Celebrated", birth_month=4, birth_day=11)
        dan = member_person(workspace, name=f"Dan{n} Today", birth_month=ALERT_DAY.month, birth_day=ALERT_DAY.day)
        PrepSettings.objects.create(workspace=workspace, alert_days=2, group_card=True)
        # Yesterday's wish on Dan's card, delivered with the digest of his day.
        ref = CardRef(workspace_id=workspace.pk, person_id=dan.pk, kind="birthday", day=ALERT_DAY)
        olga = workspace.people.get(name=f"Olga{n} Owner")
        wish_save(ref=ref, author=olga, text="Hi", today=ALERT_DAY - timedelta(days=1))
        reminders.append(
            Reminder.objects.select_related("workspace").get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
        )
    return reminders


def planned_with_queries(reminders):
    items = []
    for reminder in reminders:
        tz = schedule.reminder_time_zone(reminder)
        items.append((reminder, daily_occurrence_on(day=ALERT_DAY, at=schedule.reminder_local_time(reminder), tz=tz)))
    with CaptureQueriesContext(connection) as queries:
        planner = Planner(items, prep=True)  # as the tick's firing plans a batch
        plans = [planner.plan(reminder=reminder, slot=slot) for reminder, slot in items]
    return plans, len(queries)


def test_the_queries_do_not_grow_with_the_batch():
    _few, few_queries = planned_with_queries(workspaces_with_alerts(2))
    many, many_queries = planned_with_queries(workspaces_with_alerts(12, first=2))

    keys = [m.notification.idempotency_key for plan in many for m in plan]
    assert sum(":alert:" in key for key in keys) == 12 * 2  # Olga and Ada (the admins) in each, for Cleo
    assert sum(":card-birthday-" in key for key in keys) == 12 * 2  # Dan's own copy and the team's post
    assert many_queries == few_queries


def test_the_tick_writes_the_alerts_once():
    (reminder,) = workspaces_with_alerts(1)
    tz = ZoneInfo(reminder.workspace.timezone)
    slot = daily_occurrence_on(day=ALERT_DAY, at=schedule.reminder_local_time(reminder), tz=tz)
    Reminder.objects.filter(pk=reminder.pk).update(next_run_at=slot.at)

    tick(now=slot.at + timedelta(seconds=5))
    tick(now=slot.at + timedelta(seconds=65))

    rows = Notification.objects.filter(workspace=reminder.workspace, idempotency_key__contains=":alert:")
    assert sorted(row.person.name for row in rows) == ["Ada0 Admin", "Olga0 Owner"]
    assert Notification.objects.filter(idempotency_key__contains=":card-birthday-").count() == 2
