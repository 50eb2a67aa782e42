"""Message variants in the digest's greetings: the variant is chosen by the message's idempotency key
(SHA-256 modulo the number of variants), written with the notification, never changed by a rerun; a
workspace's own variants replace the shipped set; a variant's picture reaches Slack and email only."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from notifications.models import Notification, Template
from notifications.rendering import default_variants, render_source
from notifications.variants import variant_index
from reminders.models import Reminder, ReminderKind
from scheduling import services
from scheduling.tick import tick
from tests.factories import PersonFactory
from tests.scheduling.test_own_time import LA, at, own_time_workspace

DAY = date(2026, 6, 10)  # a Wednesday


def with_greetings(workspace, *, on: bool = True) -> Reminder:
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    Reminder.objects.filter(pk=reminder.pk).update(personal_greetings=on)
    return reminder


def birthday_people(workspace, count: int, **extra) -> None:
    for number in range(count):
        PersonFactory(
            workspace=workspace,
            name=f"Person {number:02}",
            email=f"p{number}@example.com",
            birth_month=DAY.month,
            birth_day=DAY.day,
            preferred_channels=["email"],
            **extra,
        )


def greetings(queryset=None) -> list[Notification]:
    queryset = queryset if queryset is not None else Notification.objects.all()
    return list(queryset.filter(idempotency_key__contains=":greeting-").select_related("person", "workspace"))


def shipped_text(notification: Notification, *, kind: str, language: str = "en") -> tuple[str, str]:
    """The shipped variant the notification's key chooses, rendered with the same data."""
    variants = default_variants(reminder_kind=kind, channel=notification.channel)
    subject, body = variants[variant_index(notification.idempotency_key, len(variants))]
    name = notification.person.name
    context = {
        "workspace": {"name": notification.workspace.name},
        "person": {"name": name, "mention": name, "age": None, "when": None, "milestone": False},
    }
    rendered = render_source(
        subject=subject, body=body, channel=notification.channel, context=context, language=language
    )
    return rendered.subject, rendered.body


@pytest.mark.django_db
def test_each_greeting_is_the_shipped_variant_its_key_chooses_and_several_are_used(make_workspace):
    workspace = make_workspace()
    with_greetings(workspace)
    birthday_people(workspace, 30)

    services.digest_run_now(workspace=workspace, day=DAY)

    sent = greetings()
    assert len(sent) == 30
    count = len(default_variants(reminder_kind="personal_greeting", channel="email"))
    assert count >= 3
    for notification in sent:
        subject, body = shipped_text(notification, kind="personal_greeting")
        assert notification.subject == subject
        assert notification.body.startswith(body)  # then the preferences link
    chosen = {variant_index(n.idempotency_key, count) for n in sent}
    assert len(chosen) > 1  # 30 people on one variant of three: (1/3)^29


@pytest.mark.django_db
def test_a_rerun_after_a_new_variant_changes_no_written_text_and_later_days_use_the_new_set(make_workspace):
    """GIVEN greetings written for a day WHEN the workspace adds its own variants and the day runs again
    THEN nothing is written twice and no stored text changes; the next day's greetings use the new set."""
    workspace = make_workspace()
    with_greetings(workspace)
    birthday_people(workspace, 6)
    services.digest_run_now(workspace=workspace, day=DAY)
    before = {n.pk: (n.subject, n.body) for n in greetings()}

    for label in ("a", "b"):
        Template.objects.create(
            workspace=workspace,
            reminder_kind="personal_greeting",
            channel="email",
            label=label,
            body=label.upper() + " for {{ person.name }}",
        )
    rerun = services.digest_run_now(workspace=workspace, day=DAY)

    assert rerun.result.created_ids == []
    assert {n.pk: (n.subject, n.body) for n in greetings()} == before
    preview = services.digest_run_now(workspace=workspace, day=DAY, dry_run=True)
    assert all(m.exists for m in preview.result.planned)

    PersonFactory(
        workspace=workspace,
        name="Next Day",
        email="next@example.com",
        birth_month=6,
        birth_day=11,
        preferred_channels=["email"],
    )
    services.digest_run_now(workspace=workspace, day=date(2026, 6, 11))
    (later,) = greetings(Notification.objects.filter(occurrence_date=date(2026, 6, 11)))
    templates = list(Template.objects.filter(workspace=workspace).order_by("created_at", "id"))
    expected = templates[variant_index(later.idempotency_key, 2)].body.replace("{{ person.name }}", "Next Day")
    assert later.body.startswith(expected)


@pytest.mark.django_db
def test_a_workspace_variants_picture_is_kept_on_slack_and_email_and_left_out_of_sms(make_workspace):
    workspace = make_workspace()
    with_greetings(workspace)
    for channel in ("email", "sms"):
        Template.objects.create(
            workspace=workspace,
            reminder_kind="personal_greeting",
            channel=channel,
            label="cake",
            body="Cake for {{ person.name }}",
            image_url="https://cdn.example.com/cake.png",
            image_alt="A chocolate cake",
        )
    PersonFactory(
        workspace=workspace,
        name="Em Mail",
        email="em@example.com",
        birth_month=6,
        birth_day=10,
        preferred_channels=["email"],
    )

    services.digest_run_now(workspace=workspace, day=DAY)

    (greeting,) = greetings()
    assert greeting.body.startswith("Cake for Em Mail")
    assert (greeting.image_url, greeting.image_alt) == ("https://cdn.example.com/cake.png", "A chocolate cake")


@pytest.mark.django_db
def test_german_greetings_use_the_german_text_of_the_chosen_variant(make_workspace):
    workspace = make_workspace(locale="de")
    with_greetings(workspace)
    birthday_people(workspace, 9)

    services.digest_run_now(workspace=workspace, day=DAY)

    for notification in greetings():
        subject, body = shipped_text(notification, kind="personal_greeting", language="de")
        assert notification.subject == subject
        assert notification.body.startswith(body)
        assert "Happy" not in notification.body
        assert "birthday" not in notification.subject


@pytest.mark.django_db
def test_a_private_celebration_is_greeted_even_with_the_digests_greetings_off(make_workspace):
    workspace = make_workspace()
    with_greetings(workspace, on=False)
    same = {"birth_month": 6, "birth_day": 10, "preferred_channels": ["email"]}
    PersonFactory(workspace=workspace, name="Pub", email="pub@example.com", **same)
    PersonFactory(workspace=workspace, name="Priv", email="priv@example.com", celebrate_birthday="private", **same)

    run = services.digest_run_now(workspace=workspace, day=DAY, dry_run=True)

    greeted = [m.notification.person.name for m in run.result.planned if ":greeting-" in m.notification.idempotency_key]
    assert greeted == ["Priv"]
    (post,) = [m.notification.body for m in run.result.planned if m.notification.channel == "slack"]
    assert "Pub" in post
    assert "Priv" not in post


# --- each person's own time ---------------------------------------------------------------------


@pytest.mark.django_db
def test_at_each_persons_own_time_the_greeting_is_the_variant_its_key_chooses(make_workspace):
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    for label in ("a", "b", "c"):
        Template.objects.create(
            workspace=workspace,
            reminder_kind="personal_greeting",
            channel="email",
            label=label,
            body=label.upper() + " for {{ person.name }}",
        )
    for number in range(6):
        PersonFactory(
            workspace=workspace,
            name=f"Lee {number}",
            email=f"lee{number}@example.com",
            timezone=LA,
            preferred_channels=["email"],
            birth_month=day.month,
            birth_day=day.day,
        )

    tick(now=at(day, time(9), LA) + timedelta(seconds=5))

    sent = greetings()
    assert len(sent) == 6
    labels = [t.label for t in Template.objects.filter(workspace=workspace).order_by("created_at", "id")]
    for notification in sent:
        chosen = labels[variant_index(notification.idempotency_key, 3)].upper()
        assert notification.body.startswith(f"{chosen} for {notification.person.name}")


@pytest.mark.django_db
def test_at_each_persons_own_time_a_private_celebration_is_greeted_with_greetings_off(make_workspace):
    day = date(2027, 6, 10)
    workspace = own_time_workspace(make_workspace, tz="Europe/Berlin", now=datetime(2027, 6, 1, tzinfo=UTC))
    same = {"timezone": LA, "preferred_channels": ["email"], "birth_month": day.month, "birth_day": day.day}
    PersonFactory(workspace=workspace, name="Pub", email="pub@example.com", **same)
    PersonFactory(workspace=workspace, name="Priv", email="priv@example.com", celebrate_birthday="private", **same)
    Reminder.objects.filter(workspace=workspace).update(personal_greetings=False)

    tick(now=at(day, time(9), LA) + timedelta(seconds=5))

    assert [n.person.name for n in greetings()] == ["Priv"]
