"""The tick plans a whole claimed batch at once: its SQL does not grow with the number of due reminders."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from birthdaybuddy.db import insert_ignoring_conflicts
from notifications.models import Notification
from reminders import schedule
from reminders.models import Audience, Reminder, ReminderKind
from scheduling.models import Occurrence
from scheduling.planning import Planner, plan_occurrence, plan_occurrences
from scheduling.tick import tick
from tests.factories import PersonFactory
from workspaces.models import Membership

DAY = datetime(2026, 6, 10, tzinfo=UTC)


def _celebrating_workspace(make_workspace, *, at: time):
    """A workspace whose digest at ``at`` UTC on DAY has one birthday, a Slack post and one member's email."""
    workspace = make_workspace(tz="UTC", notify_at=at)
    owner = Membership.objects.get(workspace=workspace).user
    PersonFactory(workspace=workspace, user=owner, name="Owner", preferred_channels=["email"], birth_month=1)
    PersonFactory(workspace=workspace, name="Ana", birth_month=DAY.month, birth_day=DAY.day)
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    digest.last_run_at = DAY - timedelta(hours=1)
    digest.save(update_fields=["last_run_at"])
    schedule.reminder_reschedule(reminder=digest, now=DAY - timedelta(hours=1))
    return workspace


def _busy_tick(now: datetime):
    with CaptureQueriesContext(connection) as queries:
        run = tick(now=now)
    return run, len(queries)


@pytest.mark.django_db
def test_a_busy_tick_costs_the_same_statements_for_3_or_12_due_digests(make_workspace):
    for _ in range(3):
        _celebrating_workspace(make_workspace, at=time(9))
    for _ in range(12):
        _celebrating_workspace(make_workspace, at=time(10))

    small, small_queries = _busy_tick(DAY.replace(hour=9))
    large, large_queries = _busy_tick(DAY.replace(hour=10))

    assert (small.due, small.created) == (3, 6)  # a Slack post and an email each
    assert (large.due, large.created) == (12, 24)
    assert small_queries == large_queries
    # claim, what earlier digests covered, celebrations, prep settings, configs, overrides,
    # members, notifications (and their ids read back on SQLite), occurrences, schedules, the
    # head of the greeting schedule, the JobRun twice, and the savepoints/transaction around them
    assert large_queries <= 17
    assert Occurrence.objects.filter(outcome="fired").count() == 15
    assert not Reminder.objects.filter(next_run_at__lte=DAY.replace(hour=10)).exists()


def _recurring(workspace, *, people, audience=Audience.PEOPLE, at: datetime) -> Reminder:
    reminder = Reminder.objects.create(
        workspace=workspace,
        kind=ReminderKind.RECURRING,
        name="Monthly report",
        audience=audience,
        rrule="FREQ=MONTHLY;BYMONTHDAY=10",
        run_at=at - timedelta(days=61),
        channels=["email"],
        message="Send the report for {{ date }}, {{ person.name }}.",
    )
    reminder.recipients.set(people)
    schedule.reminder_reschedule(reminder=reminder, now=at - timedelta(hours=1))
    assert reminder.next_run_at == at
    return reminder


@pytest.mark.django_db
def test_recurring_reminders_to_chosen_people_and_members_batch_their_reads(make_workspace):
    first, second = DAY.replace(hour=7), DAY.replace(hour=8)
    workspace = make_workspace(slack=False)
    people = [PersonFactory(workspace=workspace, name=f"P{i}") for i in range(3)]
    owner = Membership.objects.get(workspace=workspace).user
    PersonFactory(workspace=workspace, user=owner, name="Owner")
    _recurring(workspace, people=people[:2], at=first)
    _recurring(workspace, people=[], audience=Audience.MEMBERS, at=first)
    for _ in range(4):
        _recurring(workspace, people=people, at=second)
        _recurring(workspace, people=[], audience=Audience.MEMBERS, at=second)

    small, small_queries = _busy_tick(first)
    large, large_queries = _busy_tick(second)

    assert (small.due, small.created) == (2, 2 + 1)
    assert (large.due, large.created) == (8, 4 * 3 + 4 * 1)  # the owner is the only member
    assert small_queries == large_queries
    bodies = set(Notification.objects.filter(recipient=people[0].email).values_list("body", flat=True))
    assert any("Send the report for 2026-06-10, P0." in body for body in bodies)


@pytest.mark.django_db
def test_planning_a_batch_gives_the_same_messages_as_planning_each_alone(make_workspace):
    workspaces = [_celebrating_workspace(make_workspace, at=time(9)) for _ in range(3)]
    items = []
    for workspace in workspaces:
        digest = Reminder.objects.select_related("workspace").get(workspace=workspace, kind="birthday_digest")
        items.append((digest, schedule.reminder_slot_at(reminder=digest, instant=digest.next_run_at)))

    together = plan_occurrences(items=items)
    alone = [plan_occurrence(reminder=reminder, slot=slot) for reminder, slot in items]

    def shape(plans):
        return [[(m.notification.channel, m.notification.recipient, m.notification.body) for m in p] for p in plans]

    assert shape(together) == shape(alone)
    assert all(len(plan) == 2 for plan in together)


@pytest.mark.django_db
def test_a_planner_reads_nothing_while_planning(make_workspace):
    workspace = _celebrating_workspace(make_workspace, at=time(9))
    digest = Reminder.objects.select_related("workspace").get(workspace=workspace, kind="birthday_digest")
    slot = schedule.reminder_slot_at(reminder=digest, instant=digest.next_run_at)
    planner = Planner([(digest, slot)])
    with CaptureQueriesContext(connection) as queries:
        planned = planner.plan(reminder=digest, slot=slot)
    assert len(planned) == 2
    assert len(queries) == 0


@pytest.mark.django_db
def test_insert_ignoring_conflicts_returns_only_the_rows_it_wrote(make_workspace):
    workspace = make_workspace()

    def row(key: str, body: str = "hello") -> Notification:
        return Notification(
            workspace=workspace, channel="email", recipient="a@example.com", body=body, idempotency_key=key
        )

    first = [row("k1"), row("k2", body="other")]
    assert set(insert_ignoring_conflicts(Notification, first)) == {first[0].pk, first[1].pk}

    again = [row("k2"), row("k3")]  # k2 exists: skipped, not an error
    assert insert_ignoring_conflicts(Notification, again) == [again[1].pk]
    assert insert_ignoring_conflicts(Notification, [row("k4")]) != []
    stored = Notification.objects.get(idempotency_key="k2")
    assert (stored.pk, stored.body, stored.status, stored.attempts) == (first[1].pk, "other", "pending", 0)
    assert Notification.objects.count() == 4
