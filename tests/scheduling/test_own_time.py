"""Each person's own time: greetings at the digest's time in each person's zone, once."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import ChannelConfig, Notification
from reminders.models import Reminder, ReminderKind
from scheduling.models import GreetingSchedule
from scheduling.own_time import greeting_schedule_rebuild
from scheduling.tick import tick
from tests.concurrency import concurrently
from tests.factories import PersonFactory
from workspaces.models import Consent, Person
from workspaces.services import person_update, workspace_update

LA = "America/Los_Angeles"
AUCKLAND = "Pacific/Auckland"


def at(day: date, clock: time, tz: str) -> datetime:
    """The instant local ``clock`` on ``day`` in ``tz`` (first of a fold; never in a gap here)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def greetings() -> list[Notification]:
    return list(Notification.objects.filter(idempotency_key__contains=":greeting-").select_related("person"))


def greeted() -> dict[str, int]:
    counts: dict[str, int] = {}
    for notification in greetings():
        counts[notification.person.name] = counts.get(notification.person.name, 0) + 1
    return counts


def own_time_workspace(make_workspace, *, tz: str, notify_at: time = time(9), now: datetime, **extra):
    """A workspace with personal greetings, switched to each person's own time at ``now``."""
    workspace = make_workspace(tz=tz, notify_at=notify_at, **extra)
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(personal_greetings=True)
    with time_machine.travel(now, tick=False):
        workspace_update(workspace=workspace, data={"greet_in_own_zone": True})
    return workspace


def birthday(day: date) -> dict:
    return {"birth_month": day.month, "birth_day": day.day}


def settle_digest(workspace, day: date) -> datetime:
    """Puts the workspace's digest on ``day`` (its own zone and time) and returns that instant."""
    when = at(day, workspace.notify_at, workspace.timezone)
    Reminder.objects.filter(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST).update(
        next_run_at=when, next_occurrence_at=when
    )
    return when


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "day", "notify_at", "expected"),
    [
        # spring forward: 02:30 does not exist; it comes when the clocks jump (03:00 local)
        (LA, date(2027, 3, 14), time(2, 30), datetime(2027, 3, 14, 10, 0, tzinfo=UTC)),
        (AUCKLAND, date(2027, 9, 26), time(2, 30), datetime(2027, 9, 25, 14, 0, tzinfo=UTC)),
        # fall back: the local time comes twice; the first one
        (LA, date(2027, 11, 7), time(1, 30), datetime(2027, 11, 7, 8, 30, tzinfo=UTC)),
        (AUCKLAND, date(2027, 4, 4), time(2, 30), datetime(2027, 4, 3, 13, 30, tzinfo=UTC)),
        # an ordinary day on each side of the date line
        (LA, date(2027, 6, 1), time(9), datetime(2027, 6, 1, 16, 0, tzinfo=UTC)),
        (AUCKLAND, date(2027, 6, 1), time(9), datetime(2027, 5, 31, 21, 0, tzinfo=UTC)),
    ],
)
def test_a_greeting_comes_at_notify_at_in_the_persons_zone_across_dst(make_workspace, zone, day, notify_at, expected):
    now = datetime(2027, 1, 10, 12, tzinfo=UTC)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", notify_at=notify_at, now=now)
    person = PersonFactory(workspace=workspace, name="Pat", email="pat@example.com", timezone=zone, **birthday(day))
    greeting_schedule_rebuild(workspace=workspace, now=now)

    row = GreetingSchedule.objects.get(person=person)
    assert (row.zone, row.local_date, row.next_run_at) == (zone, day, expected)
    assert tick(now=expected - timedelta(seconds=1)).created == 0
    assert tick(now=expected + timedelta(seconds=5)).created == 1
    assert tick(now=expected + timedelta(seconds=50)).created == 0
    (greeting,) = greetings()
    assert greeting.recipient == "pat@example.com"
    assert greeting.occurrence_date == day
    assert GreetingSchedule.objects.get(person=person).local_date == day.replace(year=day.year + 1)


@pytest.mark.django_db
def test_the_team_post_stays_at_the_workspaces_time_and_each_greeting_comes_in_its_own_zone(make_workspace):
    """GIVEN a Berlin workspace greeting in each person's zone, and Ana (no zone), Lee (Los Angeles)
    and Kiri (Auckland) all born on 10 June
    WHEN the tick runs through the day
    THEN Kiri is greeted at 09:00 in Auckland, Ana with the team's post at 09:00 in Berlin, Lee at
    09:00 in Los Angeles; the post names all three; each is greeted once."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    for name, zone in (("Ana", ""), ("Lee", LA), ("Kiri", AUCKLAND)):
        PersonFactory(
            workspace=workspace, name=name, email=f"{name.lower()}@example.com", timezone=zone, **birthday(day)
        )
    digest_at = settle_digest(workspace, day)

    tick(now=at(day, time(9), AUCKLAND) + timedelta(seconds=5))
    assert greeted() == {"Kiri": 1}
    tick(now=digest_at + timedelta(seconds=5))
    post = Notification.objects.get(channel="slack", person=None)
    assert all(name in post.body for name in ("Ana", "Lee", "Kiri"))
    assert greeted() == {"Kiri": 1, "Ana": 1}
    tick(now=at(day, time(9), LA) - timedelta(seconds=5))
    assert greeted() == {"Kiri": 1, "Ana": 1}
    tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    assert greeted() == {"Kiri": 1, "Ana": 1, "Lee": 1}
    # every greeting carries the key the digest's own greeting has: the digest, the day at its time
    digest = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    keys = [n.idempotency_key for n in greetings()]
    assert len(keys) == 3
    assert all(key.startswith(f"{digest.pk}:20270610T0900:greeting-birthday:") for key in keys)


@pytest.mark.django_db
def test_weekend_and_feb_29_rules_apply_in_the_persons_zone(make_workspace):
    """Sat 12 June 2027 moves to Friday 11 June (working day before), 09:00 in Auckland; Feb 29 is
    greeted on Feb 28, 2027 (a Sunday, so Friday 26 Feb) at 09:00 in Los Angeles."""
    now = datetime(2027, 1, 10, tzinfo=UTC)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=now, celebration_shift="working_day_before")
    kiri = PersonFactory(workspace=workspace, name="Kiri", timezone=AUCKLAND, **birthday(date(2027, 6, 12)))
    leap = PersonFactory(workspace=workspace, name="Lee", timezone=LA, birth_month=2, birth_day=29)
    greeting_schedule_rebuild(workspace=workspace, now=now)
    assert GreetingSchedule.objects.get(person=kiri).next_run_at == at(date(2027, 6, 11), time(9), AUCKLAND)
    assert GreetingSchedule.objects.get(person=leap).next_run_at == at(date(2027, 2, 26), time(9), LA)
    tick(now=at(date(2027, 2, 26), time(9), LA) + timedelta(seconds=5))
    assert greeted() == {"Lee": 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="in-memory SQLite cannot hold concurrent writers")
def test_concurrent_ticks_greet_each_person_exactly_once(make_workspace):
    """GIVEN 3 workspaces, 30 people in 10 zones whose greetings are all due
    WHEN three ticks race in small batches, then a fourth runs
    THEN each person has exactly one greeting and every row has moved on a year."""
    day = date(2027, 6, 10)
    # within six hours of each other (the grace period): all due at once, none missed
    zones = ["Asia/Dubai", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Yangon", "Asia/Bangkok"]
    zones += ["Asia/Shanghai", "Australia/Eucla", "Asia/Tokyo", "Australia/Adelaide"]
    people = []
    for w in range(3):
        workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
        for i in range(10):
            people.append(
                PersonFactory(
                    workspace=workspace,
                    name=f"P{w}-{i}",
                    email=f"p{w}{i}@example.com",
                    timezone=zones[i],
                    **birthday(day),
                )
            )
    now = datetime(2027, 6, 10, 5, 10, tzinfo=UTC)  # 09:00 came in each zone, less than 6 h ago
    assert GreetingSchedule.objects.filter(next_run_at__lte=now).count() == 30

    concurrently(*(lambda: tick(now=now, limit=3) for _ in range(3)))
    tick(now=now)

    assert Notification.objects.filter(idempotency_key__contains=":greeting-").count() == 30
    assert greeted() == {p.name: 1 for p in people}
    assert set(GreetingSchedule.objects.values_list("local_date", flat=True)) == {date(2028, 6, 10)}


@pytest.mark.django_db
def test_switching_on_mid_day_sends_no_greeting_twice(make_workspace):
    """GIVEN a Berlin workspace whose digest greeted Ana, Lee (LA) and Kiri (Auckland) at 09:00
    WHEN it switches to each person's own time at noon, and the tick runs on
    THEN the rows due today find their greeting written already: nobody is greeted twice."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC), tick=False):
        workspace_update(workspace=workspace, data={"greet_in_own_zone": False})
    assert not GreetingSchedule.objects.exists()
    for name, zone in (("Ana", ""), ("Lee", LA), ("Kiri", AUCKLAND)):
        PersonFactory(
            workspace=workspace, name=name, email=f"{name.lower()}@example.com", timezone=zone, **birthday(day)
        )
    tick(now=settle_digest(workspace, day) + timedelta(seconds=5))
    assert greeted() == {"Ana": 1, "Lee": 1, "Kiri": 1}

    noon = at(day, time(12), "Europe/Berlin")
    with time_machine.travel(noon, tick=False):
        workspace_update(workspace=workspace, data={"greet_in_own_zone": True})
    ana_row = GreetingSchedule.objects.get(person__name="Ana")
    assert ana_row.local_date == day  # due since 09:00: fires at once and finds its key
    tick(now=noon + timedelta(seconds=5))
    tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    tick(now=at(day + timedelta(days=1), time(9), AUCKLAND) + timedelta(seconds=5))
    assert greeted() == {"Ana": 1, "Lee": 1, "Kiri": 1}
    assert set(GreetingSchedule.objects.values_list("local_date", flat=True)) == {date(2028, 6, 10)}


@pytest.mark.django_db
def test_switching_off_mid_day_still_greets_whoever_todays_digest_left_to_their_zone(make_workspace):
    """GIVEN a Berlin workspace greeting in each person's zone: Kiri (Auckland) greeted already,
    Ana greeted at 09:00 Berlin, Lee (LA) still to come
    WHEN it switches off at noon
    THEN Lee is still greeted at 09:00 in LA, once; later rows are gone, and the next day's digest
    greets its people itself."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    for name, zone in (("Ana", ""), ("Lee", LA), ("Kiri", AUCKLAND)):
        PersonFactory(
            workspace=workspace, name=name, email=f"{name.lower()}@example.com", timezone=zone, **birthday(day)
        )
    tomorrow = PersonFactory(
        workspace=workspace, name="Tom", email="tom@example.com", timezone=LA, **birthday(day + timedelta(days=1))
    )
    tick(now=at(day, time(9), AUCKLAND) + timedelta(seconds=5))
    tick(now=settle_digest(workspace, day) + timedelta(seconds=5))
    assert greeted() == {"Kiri": 1, "Ana": 1}

    noon = at(day, time(12), "Europe/Berlin")
    with time_machine.travel(noon, tick=False):
        workspace_update(workspace=workspace, data={"greet_in_own_zone": False})
    assert list(GreetingSchedule.objects.values_list("person__name", flat=True)) == ["Lee"]
    tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    assert greeted() == {"Kiri": 1, "Ana": 1, "Lee": 1}
    assert not GreetingSchedule.objects.exists()

    tick(now=settle_digest(workspace, day + timedelta(days=1)) + timedelta(seconds=5))
    assert greeted() == {"Kiri": 1, "Ana": 1, "Lee": 1, "Tom": 1}
    assert Notification.objects.get(person=tomorrow).occurrence_date == day + timedelta(days=1)


@pytest.mark.django_db
def test_consent_celebrate_off_private_and_surprise_rules_hold_in_own_zones(make_workspace):
    """Declined and deactivated people get no row and no greeting; a kind switched off is not
    greeted; private ones are greeted but left out of the team's post; the celebrated people are
    left out of the team's email digest."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    same = {**birthday(day), "joined_on": date(2024, 6, 10), "timezone": LA, "preferred_channels": ["email"]}
    PersonFactory(workspace=workspace, name="Pat Public", email="pat@example.com", **same)
    PersonFactory(
        workspace=workspace, name="Pri Private", email="pri@example.com", celebrate_birthday="private", **same
    )
    PersonFactory(workspace=workspace, name="Ola Off", email="ola@example.com", celebrate_birthday="off", **same)
    PersonFactory(workspace=workspace, name="Dee Declined", email="dee@example.com", consent=Consent.DECLINED, **same)
    nia = PersonFactory(
        workspace=workspace,
        name="Nia None",
        email="nia@example.com",
        celebrate_birthday="off",
        celebrate_anniversary="off",
        **same,
    )
    assert set(GreetingSchedule.objects.values_list("person__name", flat=True)) == {
        "Pat Public",
        "Pri Private",
        "Ola Off",
    }
    tick(now=settle_digest(workspace, day) + timedelta(seconds=5))
    assert greetings() == []  # all of them in Los Angeles: not yet
    post = Notification.objects.get(channel="slack", person=None)
    assert "Pat Public" in post.body
    assert "Today: Pat Public" in post.body
    assert "Pri Private, " not in post.body.split("\n")[0]
    assert "Dee" not in post.body
    assert "Nia" not in post.body
    # the team's email digest reaches no one celebrated that day (the workspace's members are not)
    celebrated = {"pat@example.com", "pri@example.com", "ola@example.com", "nia@example.com"}
    assert not Notification.objects.filter(
        channel="email", idempotency_key__contains=":digest:", recipient__in=celebrated
    ).exists()

    tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    kinds = sorted((n.person.name, n.idempotency_key.split(":")[2]) for n in greetings())
    assert kinds == [
        ("Ola Off", "greeting-anniversary"),
        ("Pat Public", "greeting-anniversary"),
        ("Pat Public", "greeting-birthday"),
        ("Pri Private", "greeting-anniversary"),
        ("Pri Private", "greeting-birthday"),
    ]
    # switching a kind back on schedules the person (a save keeps the row in step)
    with time_machine.travel(at(day + timedelta(days=1), time(12), LA), tick=False):
        person_update(person=nia, data={"celebrate_birthday": "public"})
    assert GreetingSchedule.objects.get(person=nia).local_date == date(2028, 6, 10)


@pytest.mark.django_db
def test_a_person_moving_zone_is_greeted_in_the_new_one(make_workspace):
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    with time_machine.travel(datetime(2027, 6, 1, tzinfo=UTC), tick=False):
        person = PersonFactory(workspace=workspace, name="Lee", email="lee@example.com", timezone=LA, **birthday(day))
        assert GreetingSchedule.objects.get(person=person).next_run_at == at(day, time(9), LA)
        person.timezone = AUCKLAND  # as the Slack directory sync saves it
        person.save()
    assert GreetingSchedule.objects.get(person=person).next_run_at == at(day, time(9), AUCKLAND)


@pytest.mark.django_db
def test_people_without_a_row_are_greeted_with_the_digest(make_workspace):
    """A person without a row (dates written by a plain UPDATE, which runs no step and sends no
    signal) is greeted by the digest at its own time."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    PersonFactory(workspace=workspace, name="Lee", email="lee@example.com", timezone=LA, **birthday(day))
    GreetingSchedule.objects.all().delete()
    tick(now=settle_digest(workspace, day) + timedelta(seconds=5))
    assert greeted() == {"Lee": 1}


@pytest.mark.django_db
def test_a_paused_digest_or_one_without_greetings_greets_nobody_and_the_row_moves_on(make_workspace):
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    PersonFactory(workspace=workspace, name="Lee", email="lee@example.com", timezone=LA, **birthday(day))
    Reminder.objects.filter(workspace=workspace).update(personal_greetings=False)
    tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    assert greetings() == []
    assert GreetingSchedule.objects.get().local_date == date(2028, 6, 10)


@pytest.mark.django_db
def test_a_greeting_past_its_local_day_is_missed_not_sent(make_workspace):
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    PersonFactory(workspace=workspace, name="Kiri", email="k@example.com", timezone=AUCKLAND, **birthday(day))
    settle_digest(workspace, date(2030, 1, 1))
    run = tick(now=at(day + timedelta(days=1), time(0, 30), AUCKLAND))
    assert (run.created, run.missed) == (0, 1)
    assert GreetingSchedule.objects.get().local_date == date(2028, 6, 10)
    assert greetings() == []


@pytest.mark.django_db
def test_a_minutes_greetings_are_queued_as_one_batch(make_workspace, django_capture_on_commit_callbacks):
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    for name in ("Ana", "Bo"):
        PersonFactory(workspace=workspace, name=name, email=f"{name.lower()}@example.com", timezone=LA, **birthday(day))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    (queued,) = [c for c in callbacks if getattr(c, "keywords", {}).get("batch")]
    assert sorted(queued.args[0]) == sorted(str(n.pk) for n in greetings())
    assert len(queued.args[0]) == 2


@pytest.mark.django_db
def test_a_greeting_sent_before_notify_at_changed_is_not_sent_again_by_the_digest(make_workspace):
    """GIVEN Kiri (Auckland) greeted at 09:00 on her day, the evening before in Berlin
    WHEN the Berlin workspace moves notify_at to 10:00 that evening (the key's time changes)
    THEN the next morning's post names her, but nobody greets her a second time; Ana (no zone)
    is greeted at the new time."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    for name, zone in (("Ana", ""), ("Kiri", AUCKLAND)):
        PersonFactory(
            workspace=workspace, name=name, email=f"{name.lower()}@example.com", timezone=zone, **birthday(day)
        )
    tick(now=at(day, time(9), AUCKLAND) + timedelta(seconds=5))
    assert greeted() == {"Kiri": 1}

    evening = at(day - timedelta(days=1), time(22), "Europe/Berlin")
    with time_machine.travel(evening, tick=False):
        workspace_update(workspace=workspace, data={"notify_at": time(10)})
    assert GreetingSchedule.objects.get(person__name="Ana").next_run_at == at(day, time(10), "Europe/Berlin")
    tick(now=settle_digest(workspace, day) + timedelta(seconds=5))

    assert "Kiri" in Notification.objects.get(channel="slack", person=None).body
    assert greeted() == {"Kiri": 1, "Ana": 1}


@pytest.mark.django_db
def test_people_who_declined_or_left_slack_without_a_save_keep_their_row_but_are_not_greeted(make_workspace):
    """Firing decides on the people claimed with the rows (not read again): the digest's rules
    still hold for changes written in bulk, which send no signal and leave the row in place."""
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    for name in ("Ana", "Dee", "Sam"):
        PersonFactory(workspace=workspace, name=name, email=f"{name.lower()}@example.com", timezone=LA, **birthday(day))
    Person.objects.filter(name="Dee").update(consent=Consent.DECLINED)
    Person.objects.filter(name="Sam").update(slack_deactivated_at=datetime(2027, 6, 2, tzinfo=UTC))
    assert GreetingSchedule.objects.count() == 3
    tick(now=at(day, time(9), LA) + timedelta(seconds=5))
    assert greeted() == {"Ana": 1}


@pytest.mark.django_db
def test_a_minutes_statements_do_not_grow_with_its_greetings(make_workspace):
    """A busy minute reads and writes per batch, never per row or per workspace: one person in one
    workspace, or seven people on email and Slack direct messages in three, take the same statements."""
    first, second = date(2027, 6, 10), date(2027, 6, 11)
    now = datetime(2027, 6, 1, tzinfo=UTC)
    lone = own_time_workspace(make_workspace, tz="Europe/Berlin", now=now)
    PersonFactory(workspace=lone, name="Lone", email="lone@example.com", timezone=LA, **birthday(first))
    for n in range(3):
        workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=now)
        ChannelConfig.objects.filter(workspace=workspace).update(bot_token="xoxb-test", channel_id="C0TEAM")
        for k in range(2 + (n == 0)):
            PersonFactory(
                workspace=workspace,
                name=f"P{n}{k}",
                email=f"p{n}{k}@example.com",
                slack_user_id=f"U0{n}{k}AAAA",
                preferred_channels=["slack"] if k else ["email"],
                timezone=LA,
                **birthday(second),
            )
    counts = []
    for day in (first, second):
        # The team's digests (09:00 Berlin, hours before) run first: the minute measured is the greetings'.
        tick(now=at(day, time(9), "Europe/Berlin") + timedelta(seconds=5))
        with CaptureQueriesContext(connection) as queries:
            run = tick(now=at(day, time(9), LA) + timedelta(seconds=5))
        counts.append((run.created, len(queries)))
    assert counts[0][0] == 1
    assert counts[1][0] == 7
    assert counts[0][1] == counts[1][1]
    assert sorted(n.channel for n in greetings() if n.occurrence_date == second) == ["email"] * 3 + ["slack"] * 4
