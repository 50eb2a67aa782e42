"""Seeds the bench database: workspaces in many time zones, members, people, digests, Slack channels.

Fast by construction: users, workspaces, memberships and people go in with PostgreSQL
``COPY`` (psycopg's ``cursor.copy``), reminders and channel configs (encrypted field) with
``bulk_create`` in large chunks (``bench/copying.py``). The field logic follows the test factories; the digest's
``next_run_at`` is computed with ``reminders.schedule.reminder_next_slot`` exactly as
``reminder_reschedule`` does for a workspace created now (checked on a sample).

What was seeded is recorded in ``bench_dataset`` (``bench/dataset.py``).
"""

from __future__ import annotations

import calendar
import random
import time as clock
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, time, timedelta

from bench.copying import NULL, bulk_load, copy_rows, copy_text
from bench.dataset import Size, marker_table, record
from bench.environment import log

BULK_CHUNK = 2_000
MEMBER_CHANNELS = '["email"]'
OTHER_CHANNELS = ("[]", '["slack"]', '["email"]', '["email", "slack"]')
NOTIFY_HOURS = (7, 8, 9, 10)
NOTIFY_MINUTES = (0, 15, 30, 45)
FIRST_JOINED = date(2008, 1, 1)


# --- data -----------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _name_pools(seed: int) -> tuple[list[str], list[str]]:
    """First and last names from Faker (the factories' source), drawn once and combined fast."""
    from faker import Faker

    faker = Faker()
    faker.seed_instance(seed)
    firsts = sorted({faker.first_name() for _ in range(2_000)})
    lasts = sorted({faker.last_name() for _ in range(2_000)})
    return firsts, lasts


def _zones() -> list[str]:
    from birthdaybuddy.validators import available_timezones

    return list(available_timezones())


LEAP_YEAR_DAYS = [(d.month, d.day) for d in (date(2000, 1, 1) + timedelta(days=n) for n in range(366))]


def _birthday(rng: random.Random) -> tuple[int, int, int | None]:
    month, day = LEAP_YEAR_DAYS[rng.randrange(366)]
    year = rng.randint(1950, 2005) if rng.random() < 0.75 else None
    if year is not None and (month, day) == (2, 29) and not calendar.isleap(year):
        year -= year % 4
    return month, day, year


def truncate() -> None:
    """Empties every table of the project's apps (the bench database only)."""
    from django.apps import apps
    from django.db import connection

    labels = ("accounts", "workspaces", "events", "reminders", "scheduling", "notifications", "token_blacklist")
    existing_tables = set(connection.introspection.table_names())
    tables = sorted(
        {
            model._meta.db_table
            for label in labels
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
        }
        & existing_tables  # a model whose migration is not written yet has no table
    )
    if tables:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE")


def seed(size: Size, *, slack_port: int) -> dict:
    """Replaces the bench data with a fresh data set of ``size``; returns its shape and timings."""
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import ChannelConfig
    from reminders.models import Reminder, ReminderKind
    from reminders.schedule import reminder_next_slot, reminder_reschedule
    from workspaces.models import LeapDayPolicy, Membership, Person, Role, Workspace

    size.check()
    rng = random.Random(size.seed)
    started = clock.perf_counter()
    timings: dict[str, float] = {}
    now = timezone.now().replace(microsecond=0)
    today = now.date()
    zones = _zones()
    firsts, lasts = _name_pools(size.seed)

    def lap(name: str, since: float) -> float:
        timings[name] = round(clock.perf_counter() - since, 2)
        log(f"seed: {name} in {timings[name]:.1f}s")
        return clock.perf_counter()

    marker_table()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_dataset")
        cursor.execute("SET synchronous_commit = off")
    t = clock.perf_counter()
    truncate()
    t = lap("truncate", t)

    # Workspaces, zones shuffled so neighbours differ; the owner is the workspace's first member.
    workspace_zones = [zones[i % len(zones)] for i in range(size.workspaces)]
    rng.shuffle(workspace_zones)
    workspaces = []
    for i in range(size.workspaces):
        workspaces.append(
            Workspace(
                id=_uuid(rng),
                name=f"Bench workspace {i:05d}",
                slug=f"bench-{i:05d}",
                timezone=workspace_zones[i],
                notify_at=time(rng.choice(NOTIFY_HOURS), rng.choice(NOTIFY_MINUTES)),
                leap_day_policy=LeapDayPolicy.MAR1 if rng.random() < 0.2 else LeapDayPolicy.FEB28,
                created_at=now,
                updated_at=now,
            )
        )

    # Members: a user, a membership and a person each.
    users: list[tuple] = []
    memberships: list[tuple] = []
    member_people: dict[int, list[tuple]] = {}
    owners: dict[int, uuid.UUID] = {}
    n = 0
    for w, workspace in enumerate(workspaces):
        rows = []
        for m in range(size.members):
            user_id = _uuid(rng)
            first, last = rng.choice(firsts), rng.choice(lasts)
            month, day, year = _birthday(rng)
            dob = date(year, month, day) if year else None
            email = f"member{n:07d}@bench.example"
            slack = f"U{n:09d}"
            users.append(
                (
                    *(user_id, "!bench", None, False, email, first, last, dob, workspace.timezone, "", slack),
                    *("verified", True, False, now, now),
                )
            )
            role = Role.OWNER if m == 0 else Role.MEMBER
            memberships.append((_uuid(rng), workspace.id, user_id, role, now))
            if m == 0:
                owners[w] = user_id
            rows.append((user_id, f"{first} {last}", email, slack, month, day, year if dob else None))
            n += 1
        member_people[w] = rows
        workspace.created_by_id = owners.get(w)

    t = clock.perf_counter()
    user_fields = ["id", "password", "last_login", "is_superuser", "email", "first_name", "last_name"]
    user_fields += ["date_of_birth", "timezone", "phone", "slack_user_id", "status", "is_active", "is_staff"]
    user_fields += ["created_at", "updated_at"]
    copy_rows(User, user_fields, users)
    t = lap(f"users ({len(users)})", t)

    workspace_fields = ["id", "name", "slug", "timezone", "notify_at", "leap_day_policy", "locale", "sender_name"]
    workspace_fields += ["sender_email", "sms_sender", "created_by_id", "created_at", "updated_at"]
    copy_rows(
        Workspace,
        workspace_fields,
        (
            (
                ws.id,
                ws.name,
                ws.slug,
                ws.timezone,
                ws.notify_at,
                ws.leap_day_policy,
                "en",
                "",
                "",
                "",
                ws.created_by_id,
                now,
                now,
            )
            for ws in workspaces
        ),
    )
    t = lap(f"workspaces ({len(workspaces)})", t)

    copy_rows(Membership, ["id", "workspace_id", "user_id", "role", "created_at"], memberships)
    t = lap(f"memberships ({len(memberships)})", t)

    base, extra = divmod(size.people, size.workspaces)
    first_joined = FIRST_JOINED.toordinal()
    last_joined = today.toordinal() - 1
    shape_counts: Counter = Counter()

    def people_lines() -> Iterator[str]:
        """COPY text lines, formatted here (1M rows: the generic per-value formatting is the slow part)."""
        stamp = copy_text(now)
        show = ("f", "t")
        p = 0
        for w, workspace in enumerate(workspaces):
            count = base + (1 if w < extra else 0)
            members = member_people[w]
            workspace_id = str(workspace.id)
            for k in range(count):
                joined = date.fromordinal(rng.randint(first_joined, last_joined)) if rng.random() < 0.9 else None
                if k < len(members):
                    user_id, name, email, slack, month, day, year = members[k]
                    user_id = str(user_id)
                    channels = MEMBER_CHANNELS
                else:
                    user_id = NULL
                    name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
                    email = f"person{p:07d}@example.test" if rng.random() < 0.5 else ""
                    slack = f"W{p:09d}" if rng.random() < 0.8 else ""
                    month, day, year = _birthday(rng)
                    channels = OTHER_CHANNELS[rng.randrange(len(OTHER_CHANNELS))]
                shape_counts["with_joined_on"] += joined is not None
                shape_counts["with_birth_year"] += year is not None
                shape_counts["feb29"] += (month, day) == (2, 29)
                yield (
                    f"{_uuid(rng)}\t{workspace_id}\t{user_id}\t{copy_text(name)}\t{email}\t\t{slack}\t{month}\t{day}"
                    f"\t{NULL if year is None else year}\t{NULL if joined is None else joined}"
                    f"\t{channels}\t[]\t{show[rng.random() < 0.3]}\t{stamp}\t{stamp}"
                )
                p += 1

    person_fields = ["id", "workspace_id", "user_id", "name", "email", "phone", "slack_user_id", "birth_month"]
    person_fields += ["birth_day", "birth_year", "joined_on", "preferred_channels", "opted_out_channels"]
    person_fields += ["show_age", "created_at", "updated_at"]
    with bulk_load(Person):
        people_count = copy_rows(Person, person_fields, people_lines(), preformatted=True)
    with connection.cursor() as cursor:  # the FK checks skipped during the load, done once
        cursor.execute(
            "SELECT count(*) FROM workspaces_person p"
            " LEFT JOIN workspaces_workspace w ON w.id = p.workspace_id"
            " LEFT JOIN accounts_user u ON u.id = p.user_id"
            " WHERE w.id IS NULL OR (p.user_id IS NOT NULL AND u.id IS NULL)"
        )
        dangling = cursor.fetchone()[0]
    if dangling:
        raise RuntimeError(f"{dangling} seeded people reference a missing workspace or user")
    t = lap(f"people ({people_count})", t)

    # The digest reminder each new workspace gets (reminders.receivers → digest_ensure), in bulk.
    reminders = []
    for workspace in workspaces:
        reminder = Reminder(
            id=_uuid(rng),
            workspace=workspace,
            kind=ReminderKind.BIRTHDAY_DIGEST,
            name="Birthday and anniversary digest",
            channels=["slack", "email"],
            created_at=now,
        )
        slot = reminder_next_slot(reminder=reminder, after=min(reminder.created_at, now))
        reminder.next_run_at = slot.at if slot else None
        reminders.append(reminder)
    Reminder.objects.bulk_create(reminders, batch_size=BULK_CHUNK)
    t = lap(f"digest reminders ({len(reminders)})", t)

    # Consistency with the service: reminder_reschedule on a sample gives the same next_run_at.
    sample = rng.sample(reminders, min(20, len(reminders)))
    with transaction.atomic():
        for seeded in sample:
            fresh = Reminder.objects.select_related("workspace").get(pk=seeded.pk)
            reminder_reschedule(reminder=fresh, now=now)
            if fresh.next_run_at != seeded.next_run_at:
                raise RuntimeError(f"seeded next_run_at {seeded.next_run_at} != reschedule's {fresh.next_run_at}")
        transaction.set_rollback(True)

    configs = [
        ChannelConfig(
            id=_uuid(rng),
            workspace_id=workspace.id,
            kind="slack",
            webhook_url=webhook_url(slack_port, i),
            created_at=now,
        )
        for i, workspace in enumerate(workspaces)
    ]
    ChannelConfig.objects.bulk_create(configs, batch_size=BULK_CHUNK)
    t = lap(f"slack channel configs ({len(configs)})", t)

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    t = lap("analyze", t)

    seconds = round(clock.perf_counter() - started, 2)
    shape = {
        "workspaces": size.workspaces,
        "people": people_count,
        "people_per_workspace": base if not extra else f"{base}-{base + 1}",
        "members_per_workspace": size.members,
        "member_users": len(users),
        "members_want_email_digest": True,
        "time_zones": len(set(workspace_zones)),
        "notify_at": "07:00-10:45 local, quarter hours",
        "leap_day_policy": dict(Counter(ws.leap_day_policy for ws in workspaces)),
        "birthdays": "every person; uniform over the 366 days of a leap year",
        "with_birth_year": round(shape_counts["with_birth_year"] / max(1, people_count), 3),
        "feb29_birthdays": shape_counts["feb29"],
        "with_joined_on": round(shape_counts["with_joined_on"] / max(1, people_count), 3),
        "joined_on_range": f"{FIRST_JOINED.isoformat()}..{(today - timedelta(days=1)).isoformat()}",
        "digest_reminders": len(reminders),
        "digest_channels": ["slack", "email"],
        "slack_channel": "one incoming-webhook ChannelConfig per workspace (local fake Slack)",
        "seed": size.seed,
    }
    record(size, slack_port=slack_port, seeded_at=now, seconds=seconds, shape=shape)
    log(f"seed: done in {seconds:.1f}s")
    return {
        "seeded": True,
        "seed_seconds": seconds,
        "seed_timings": timings,
        "seeded_at": now.isoformat(),
        "shape": shape,
    }


def webhook_url(port: int, index: int) -> str:
    return f"http://127.0.0.1:{port}/services/T{index:07d}/B{index:07d}/benchXXXXXXXXXXXX"


def repoint_slack(*, old_port: int, new_port: int) -> int:
    """Points the seeded webhook URLs at a fake Slack on another port (``--reuse`` with a new port)."""
    from django.db import connection

    from notifications.models import ChannelConfig

    configs = list(ChannelConfig.objects.filter(kind="slack").only("id", "webhook_url"))
    prefix_old, prefix_new = f"http://127.0.0.1:{old_port}/", f"http://127.0.0.1:{new_port}/"
    for config in configs:
        if config.webhook_url and config.webhook_url.startswith(prefix_old):
            config.webhook_url = prefix_new + config.webhook_url[len(prefix_old) :]
    ChannelConfig.objects.bulk_update(configs, ["webhook_url"], batch_size=BULK_CHUNK)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_dataset SET slack_port = %s", [new_port])
    return len(configs)
