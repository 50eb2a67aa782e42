"""Celebration rules: consent, weekends and holidays, applied by the daily digest."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.tick import tick
from tests.factories import MembershipFactory, PersonFactory, UserFactory
from workspaces.models import Consent


def digest_of(workspace) -> Reminder:
    return Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)


@pytest.mark.django_db
def test_declined_and_slack_deactivated_people_are_neither_in_the_digest_nor_greeted(make_workspace):
    workspace = make_workspace(tz="Europe/Berlin")
    reminder = digest_of(workspace)
    Reminder.objects.filter(pk=reminder.pk).update(personal_greetings=True)
    day = reminder.next_run_at.astimezone(ZoneInfo(workspace.timezone)).date()
    same_day = {"birth_month": day.month, "birth_day": day.day}
    PersonFactory(workspace=workspace, name="Ana Active", email="ana@example.com", **same_day)
    PersonFactory(workspace=workspace, name="Pia Pending", consent=Consent.PENDING, **same_day)
    PersonFactory(workspace=workspace, name="Dee Declined", consent=Consent.DECLINED, **same_day)
    PersonFactory(workspace=workspace, name="Gus Gone", slack_deactivated_at=timezone.now(), **same_day)
    joined = day.replace(year=day.year - 3)
    PersonFactory(
        workspace=workspace,
        name="Jo Declined",
        consent=Consent.DECLINED,
        birth_month=None,
        birth_day=None,
        joined_on=joined,
    )

    tick(now=reminder.next_run_at + timedelta(seconds=5))

    post = Notification.objects.get(channel="slack", person=None)
    assert "Ana Active" in post.body
    assert "Pia Pending" in post.body
    for absent in ("Dee Declined", "Gus Gone", "Jo Declined"):
        assert absent not in post.body
    greeted = set(
        Notification.objects.filter(idempotency_key__contains=":greeting-").values_list("person__name", flat=True)
    )
    assert greeted == {"Ana Active", "Pia Pending"}


def bodies_on(workspace, day) -> list[str]:
    run = services.digest_run_now(workspace=workspace, day=day, dry_run=True)
    return [m.notification.body for m in run.result.planned] if run.result else []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("policy", "announced", "silent"),
    [
        # Good Friday 2026 is a public holiday in Germany; Sat 4 April is the birthday.
        ("working_day_before", date(2026, 4, 2), [date(2026, 4, 3), date(2026, 4, 4), date(2026, 4, 7)]),
        ("next_working_day", date(2026, 4, 7), [date(2026, 4, 2), date(2026, 4, 4), date(2026, 4, 6)]),
        ("on_day", date(2026, 4, 4), [date(2026, 4, 2), date(2026, 4, 3), date(2026, 4, 7)]),
    ],
)
def test_a_weekend_birthday_after_a_holiday_friday_is_announced_once_on_the_working_day(
    make_workspace, policy, announced, silent
):
    workspace = make_workspace(celebration_shift=policy, holiday_country="DE")
    PersonFactory(workspace=workspace, name="Sam Saturday", birth_month=4, birth_day=4)
    PersonFactory(workspace=workspace, name="Tia Thursday", birth_month=4, birth_day=2)

    (body,) = bodies_on(workspace, announced)
    assert "Sam Saturday" in body
    assert ("(on Saturday)" in body) is (announced != date(2026, 4, 4))
    assert "Tia" not in body or announced == date(2026, 4, 2)
    for day in silent:
        assert all("Sam Saturday" not in text for text in bodies_on(workspace, day)), day


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("leap", "policy", "announced"),
    [
        ("feb28", "working_day_before", date(2020, 2, 28)),  # Sat 29 Feb 2020 -> Fri 28
        ("feb28", "next_working_day", date(2020, 3, 2)),
        ("mar1", "working_day_before", date(2025, 2, 28)),  # common year: Sat 1 March -> Fri 28 Feb
        ("mar1", "next_working_day", date(2025, 3, 3)),
    ],
)
def test_feb29_rule_then_the_weekend_shift(make_workspace, leap, policy, announced):
    workspace = make_workspace(leap_day_policy=leap, celebration_shift=policy)
    PersonFactory(workspace=workspace, name="Leap", birth_month=2, birth_day=29, joined_on=None)
    (body,) = bodies_on(workspace, announced)
    assert "Leap (on Saturday)" in body
    for other in (announced - timedelta(days=1), announced + timedelta(days=1)):
        assert all("Leap" not in text for text in bodies_on(workspace, other))


@pytest.mark.django_db
def test_new_years_weekend_is_announced_the_year_before_counting_the_new_year(make_workspace):
    workspace = make_workspace(celebration_shift="working_day_before", holiday_country="DE", locale="de")
    PersonFactory(workspace=workspace, name="Neo", birth_month=1, birth_day=1)
    PersonFactory(workspace=workspace, name="Vet", birth_month=None, birth_day=None, joined_on=date(2018, 1, 2))
    # New Year's Day 2028 is a Saturday (and a holiday), 2 January a Sunday: both on Friday 31 December.
    (body,) = bodies_on(workspace, date(2027, 12, 31))
    assert "Neo (am Samstag)" in body
    assert "10 Jahre: Vet (am Sonntag)" in body  # ten years on 2 January 2028, not nine
    assert bodies_on(workspace, date(2028, 1, 3)) == []


@pytest.mark.django_db
def test_a_shifted_digest_fires_once_through_the_tick(make_workspace):
    workspace = make_workspace(tz="Europe/Berlin", celebration_shift="working_day_before")
    reminder = digest_of(workspace)
    tz = ZoneInfo("Europe/Berlin")
    day = reminder.next_run_at.astimezone(tz).date()
    # Find the next Saturday on or after the first digest day and its Friday.
    saturday = day + timedelta(days=(5 - day.weekday()) % 7)
    friday = saturday - timedelta(days=1)
    PersonFactory(workspace=workspace, name="Wendy Weekend", birth_month=saturday.month, birth_day=saturday.day)
    end = datetime.combine(saturday + timedelta(days=2), time(12), tzinfo=tz)
    now = reminder.next_run_at
    while now < end:
        tick(now=now + timedelta(seconds=5))
        tick(now=now + timedelta(seconds=30))
        reminder.refresh_from_db()
        now = reminder.next_run_at
    sent = Notification.objects.filter(workspace=workspace)
    assert [n.occurrence_date for n in sent] == [friday]
    assert "Wendy Weekend" in sent[0].body
    assert "(on Saturday)" in sent[0].body


@pytest.mark.django_db
def test_the_celebrated_member_is_left_out_of_the_teams_email_digest(make_workspace):
    workspace = make_workspace()
    day = date(2026, 6, 10)
    wants_email = {"preferred_channels": ["email"]}
    ana = MembershipFactory(workspace=workspace, user=UserFactory(email="ana@example.com")).user
    bo = MembershipFactory(workspace=workspace, user=UserFactory(email="bo@example.com")).user
    PersonFactory(
        workspace=workspace, user=ana, name="Ana", email="ana@example.com", birth_month=6, birth_day=10, **wants_email
    )
    PersonFactory(
        workspace=workspace, user=bo, name="Bo", email="bo@example.com", birth_month=1, birth_day=1, **wants_email
    )

    run = services.digest_run_now(workspace=workspace, day=day, dry_run=True)
    emails = [m.notification for m in run.result.planned if m.notification.channel == "email"]
    assert [n.recipient for n in emails] == ["bo@example.com"]
    assert "Ana" in emails[0].body

    # On Bo's day it is the other way round.
    run = services.digest_run_now(workspace=workspace, day=date(2027, 1, 1), dry_run=True)
    emails = [m.notification for m in run.result.planned if m.notification.channel == "email"]
    assert [n.recipient for n in emails] == ["ana@example.com"]


def _greetings(run) -> dict[str, str]:
    return {
        m.notification.person.name: m.notification.body
        for m in run.result.planned
        if m.notification.person is not None and ":greeting-" in m.notification.idempotency_key
    }


@pytest.mark.django_db
def test_each_kind_is_celebrated_publicly_privately_or_not_at_all(make_workspace):
    workspace = make_workspace()
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(personal_greetings=True)
    day = date(2026, 6, 10)
    same = {"birth_month": 6, "birth_day": 10, "joined_on": date(2023, 6, 10), "preferred_channels": ["email"]}
    PersonFactory(workspace=workspace, name="Pat Public", email="pat@example.com", **same)
    PersonFactory(
        workspace=workspace, name="Pri Private", email="pri@example.com", celebrate_birthday="private", **same
    )
    PersonFactory(
        workspace=workspace,
        name="Ola Off",
        email="ola@example.com",
        celebrate_birthday="off",
        celebrate_anniversary="private",
        **same,
    )
    PersonFactory(
        workspace=workspace,
        name="Nia None",
        email="nia@example.com",
        celebrate_birthday="off",
        celebrate_anniversary="off",
        **same,
    )

    run = services.digest_run_now(workspace=workspace, day=day, dry_run=True)
    (post,) = [m.notification.body for m in run.result.planned if m.notification.channel == "slack"]
    assert "🎂 Today: Pat Public, Pri Private" not in post
    assert "Today: Pat Public" in post
    assert "3 years: Pat Public, Pri Private" in post  # Pri's anniversary stays public
    assert "Ola" not in post
    assert "Nia" not in post
    greeted = sorted(
        (m.notification.person.name, m.notification.idempotency_key.split(":")[2])
        for m in run.result.planned
        if ":greeting-" in m.notification.idempotency_key
    )
    assert greeted == [
        ("Ola Off", "greeting-anniversary"),
        ("Pat Public", "greeting-anniversary"),
        ("Pat Public", "greeting-birthday"),
        ("Pri Private", "greeting-anniversary"),
        ("Pri Private", "greeting-birthday"),
    ]


@pytest.mark.django_db
def test_a_private_celebration_alone_sends_no_team_post(make_workspace):
    workspace = make_workspace()
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(personal_greetings=True)
    PersonFactory(
        workspace=workspace,
        name="Quiet",
        email="q@example.com",
        birth_month=6,
        birth_day=10,
        celebrate_birthday="private",
    )
    run = services.digest_run_now(workspace=workspace, day=date(2026, 6, 10), dry_run=True)
    assert [m.notification.channel for m in run.result.planned] == ["email"]
    assert run.result.planned[0].notification.recipient == "q@example.com"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("joined_year", "milestone"), [(2025, True), (2024, False), (2021, True), (2016, True), (2019, False)]
)
def test_milestone_anniversaries_have_their_own_greeting(make_workspace, joined_year, milestone):
    workspace = make_workspace()
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(personal_greetings=True)
    PersonFactory(
        workspace=workspace,
        name="Vet",
        email="vet@example.com",
        birth_month=None,
        birth_day=None,
        joined_on=date(joined_year, 6, 10),
    )
    run = services.digest_run_now(workspace=workspace, day=date(2026, 6, 10), dry_run=True)
    (greeting,) = _greetings(run).values()
    assert ("a milestone" in greeting) is milestone
    # Every shipped variant of the plain anniversary greeting says one of these; no milestone one does.
    plain = ("Congratulations on", "years at", "Happy work anniversary")
    assert any(words in greeting for words in plain) is not milestone
