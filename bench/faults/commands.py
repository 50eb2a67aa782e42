"""The Django side, run as ``python -m bench.faults <command>`` with the harness's environment."""

from __future__ import annotations

import os
import time

# --- the Django side: python -m bench.faults <command> (environment from Harness.env) ------------


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birthdaybuddy.settings")
    django.setup()


def setup_template(*, workspaces: int, slack_prefix: str, tick_seconds: int | None, sweep_seconds: int | None) -> dict:
    """The load's workspaces (one Slack webhook each at the fake, plus one ``/hang/`` webhook),
    and — when asked — shorter intervals for the beat tick and sweeper."""
    _django()
    from django.db import transaction
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

    from notifications.models import ChannelConfig
    from workspaces.models import Workspace

    now = timezone.now()
    with transaction.atomic():
        rows = [
            Workspace(name=f"Faults workspace {i:05d}", slug=f"faults-{i:05d}", timezone="UTC", created_at=now)
            for i in range(workspaces)
        ]
        rows.append(Workspace(name="Faults hung webhook", slug="faults-hang", timezone="UTC", created_at=now))
        Workspace.objects.bulk_create(rows, batch_size=2_000)
        configs = [
            ChannelConfig(
                workspace=workspace,
                kind="slack",
                webhook_url=f"{slack_prefix}T{i:07d}/B{i:07d}/faults{i:012d}",
                created_at=now,
            )
            for i, workspace in enumerate(rows[:-1])
        ]
        configs.append(
            ChannelConfig(
                workspace=rows[-1], kind="slack", webhook_url=f"{slack_prefix}hang/T0/B0/faultshang", created_at=now
            )
        )
        ChannelConfig.objects.bulk_create(configs, batch_size=2_000)
        changed = {}
        for task, seconds in (("scheduling.tick", tick_seconds), ("notifications.sweep", sweep_seconds)):
            if seconds:
                interval, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
                # One schedule per entry: the tick's migrated crontab (second 0 of each minute) gives way.
                changed[task] = PeriodicTask.objects.filter(task=task).update(interval=interval, crontab=None)
        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    return {"workspaces": workspaces, "intervals_changed": changed}


def load(*, slack: int, emails: int, tag: str, hang: bool) -> dict:
    """Slack digests (one per workspace) and emails written and queued in one transaction, as a
    tick does; ``hang``: one more Slack message, to the ``/hang/`` webhook, first in the second batch."""
    _django()
    from django.db import transaction

    from notifications import conf
    from notifications.models import Notification
    from notifications.services import notifications_enqueue, notifications_write
    from workspaces.models import Workspace

    workspaces = list(
        Workspace.objects.filter(slug__startswith="faults-0").order_by("slug").values_list("pk", flat=True)[:slack]
    )
    if len(workspaces) < slack:
        raise SystemExit(f"the template has {len(workspaces)} workspaces; {slack} needed")
    text = "🎂 Today: Ana Lima, Bo Chen · 🎉 5 years: Cy Dorsey"
    stride = max(1, slack // emails) if emails else 0
    rows: list[Notification] = []
    sent_emails = 0
    for i in range(slack):
        rows.append(
            Notification(
                workspace_id=workspaces[i],
                channel="slack",
                recipient="webhook",
                body=f"faults {tag} slack {i:05d}: {text}",
                idempotency_key=f"faults:{tag}:slack:{i}",
            )
        )
        if emails and i % stride == 0 and sent_emails < emails:
            rows.append(_email(workspaces[i], tag, sent_emails, text))
            sent_emails += 1
    while sent_emails < emails:
        rows.append(_email(workspaces[sent_emails % slack], tag, sent_emails, text))
        sent_emails += 1
    hang_row = None
    if hang:
        hang_row = Notification(
            workspace=Workspace.objects.get(slug="faults-hang"),
            channel="slack",
            recipient="webhook",
            body=f"faults {tag} hang: {text}",
            idempotency_key=f"faults:{tag}:hang",
        )
        rows.insert(min(len(rows), conf.batch_size()), hang_row)
    with transaction.atomic():
        ids = [str(pk) for pk in notifications_write(notifications=rows)]
        notifications_enqueue(notification_ids=ids)  # queued when this commits
    queued_at = time.time()
    size = conf.batch_size() if len(ids) >= conf.batch_threshold() else 1
    batches = [ids[start : start + size] for start in range(0, len(ids), size)]
    return {
        "expected": len(ids),
        "queued_at": queued_at,
        "batches": batches,
        "hang_id": str(hang_row.pk) if hang_row else None,
    }


def _email(workspace_id, tag: str, n: int, text: str):
    from notifications.models import Notification

    return Notification(
        workspace_id=workspace_id,
        channel="email",
        recipient=f"m{n:05d}-{tag}@faults.example",
        subject=f"Today's birthdays ({tag} {n})",
        body=f"faults {tag} email {n:05d}: {text}",
        idempotency_key=f"faults:{tag}:email:{n}",
    )


def digests(*, workspaces: int, emails: int, due: int, slack_prefix: str) -> dict:
    """Workspaces whose digest falls due at ``due`` (epoch seconds): a Slack webhook at the fake,
    one person with a birthday that day, and (``emails`` of them) a member who wants the email
    digest. The digest reminders are scheduled as ``digest_ensure`` schedules them."""
    _django()
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import ChannelConfig
    from reminders.models import Reminder, ReminderKind
    from reminders.schedule import reminder_due_at, reminder_next_slot
    from workspaces.models import Membership, Person, Role, Workspace

    at = datetime.fromtimestamp(due, UTC)
    now = timezone.now()
    day = at.date()
    other = day + timedelta(days=120)
    password = make_password(None)
    with transaction.atomic():
        rows = [
            Workspace(
                name=f"Digest workspace {i:05d}",
                slug=f"digest-{i:05d}",
                timezone="UTC",
                notify_at=at.time(),
                created_at=now,
            )
            for i in range(workspaces)
        ]
        Workspace.objects.bulk_create(rows, batch_size=2_000)
        ChannelConfig.objects.bulk_create(
            [
                ChannelConfig(
                    workspace=workspace, kind="slack", webhook_url=f"{slack_prefix}TD{i:07d}/BD{i:07d}/digest{i:09d}"
                )
                for i, workspace in enumerate(rows)
            ],
            batch_size=2_000,
        )
        people = [
            Person(
                workspace=workspace,
                name=f"Dora {i:05d}",
                slack_user_id=f"U{i:09d}",
                birth_month=day.month,
                birth_day=day.day,
            )
            for i, workspace in enumerate(rows)
        ]
        users = [
            User(email=f"d{i:05d}@faults.example", password=password, status=User.Status.VERIFIED)
            for i in range(min(emails, workspaces))
        ]
        User.objects.bulk_create(users, batch_size=2_000)
        Membership.objects.bulk_create(
            [Membership(workspace=rows[i], user=user, role=Role.MEMBER) for i, user in enumerate(users)],
            batch_size=2_000,
        )
        people += [
            Person(
                workspace=rows[i],
                user=user,
                name=f"Member {i:05d}",
                email=user.email,
                preferred_channels=["email"],
                birth_month=other.month,
                birth_day=other.day,
            )
            for i, user in enumerate(users)
        ]
        Person.objects.bulk_create(people, batch_size=2_000)
        reminders = []
        for workspace in rows:
            reminder = Reminder(
                workspace=workspace,
                kind=ReminderKind.BIRTHDAY_DIGEST,
                name="Birthday and anniversary digest",
                channels=["slack", "email"],
                created_at=now,
            )
            slot = reminder_next_slot(reminder=reminder, after=now)
            reminder.next_occurrence_at = slot.at
            reminder.next_run_at = reminder_due_at(reminder=reminder, slot=slot)
            if reminder.next_run_at != at:
                raise SystemExit(f"digest scheduled at {reminder.next_run_at}, not at {at}")
            reminders.append(reminder)
        Reminder.objects.bulk_create(reminders, batch_size=2_000)
    return {"expected": workspaces + len(users), "due": due}
