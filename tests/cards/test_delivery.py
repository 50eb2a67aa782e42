"""The group card on the day, and surprise-safety from the first alert to the day."""

from datetime import timedelta

import pytest

from cards import services as card_services
from cards.links import CardRef
from notifications.models import ChannelConfig, Notification
from reminders.models import Reminder, ReminderKind
from scheduling import selectors, services
from tests.cards.conftest import FRIDAY, member_person
from workspaces.birthdays import workspace_today

pytestmark = pytest.mark.django_db


def cards(workspace):
    return Notification.objects.filter(workspace=workspace, idempotency_key__contains=":card-")


def write(team, author, text, today=FRIDAY - timedelta(days=1)):
    ref = CardRef(workspace_id=team["workspace"].pk, person_id=team["cleo"].pk, kind="birthday", day=FRIDAY)
    card_services.wish_save(ref=ref, author=team[author], text=text, today=today)


def test_on_the_day_the_wishes_go_together_to_the_person_and_the_team_channel_once(team):
    write(team, "max", "Have a <great> day & cake")
    write(team, "ada", "Happy birthday!")

    services.digest_run_now(workspace=team["workspace"], day=FRIDAY - timedelta(days=1))
    assert not cards(team["workspace"]).exists()  # nobody sees the card before the day

    services.digest_run_now(workspace=team["workspace"], day=FRIDAY)
    services.digest_run_now(workspace=team["workspace"], day=FRIDAY)

    own = cards(team["workspace"]).get(person=team["cleo"])
    assert own.channel == "email"
    assert own.recipient == "cleo@team.example"
    assert own.subject == "Your group card from Acme"
    assert own.body.index("Have a <great> day & cake — Max Member") < own.body.index("Happy birthday! — Ada Admin")
    post = cards(team["workspace"]).get(person=None)
    assert post.channel == "slack"
    assert post.recipient == "webhook"
    assert "The team's card for Cleo Celebrated:" in post.body
    assert "Have a &lt;great&gt; day &amp; cake — Max Member" in post.body
    assert cards(team["workspace"]).count() == 2


def test_an_empty_card_sends_nothing(team):
    services.digest_run_now(workspace=team["workspace"], day=FRIDAY)

    assert not cards(team["workspace"]).exists()
    assert Notification.objects.filter(idempotency_key__contains=":digest:").exists()  # the day's digest went


def test_surprise_safety_the_celebrated_person_receives_nothing_before_the_day(team):
    """GIVEN alerts two days ahead to owners and admins, the celebrated person among the admins,
    WHEN every day's digest runs from a week before and teammates write wishes,
    THEN nothing reaches the celebrated person before the day, and on the day only the card and greeting."""
    workspace, cleo = team["workspace"], team["cleo"]
    for offset in range(7, 0, -1):
        day = FRIDAY - timedelta(days=offset)
        services.digest_run_now(workspace=workspace, day=day)
        if offset <= 2:
            write(team, "olga", "From Olga", today=day)
    assert Notification.objects.filter(idempotency_key__contains=":alert:").count() == 2

    before = Notification.objects.filter(workspace=workspace).filter(person=cleo) | Notification.objects.filter(
        workspace=workspace, recipient__iexact=cleo.email
    )
    assert not before.exists()

    services.digest_run_now(workspace=workspace, day=FRIDAY)
    to_cleo = Notification.objects.filter(recipient__iexact=cleo.email)
    assert [row.subject for row in to_cleo] == ["Your group card from Acme"]
    assert all(row.occurrence_date == FRIDAY for row in to_cleo)
    # The team's email digest that day leaves her out too.
    digest_emails = Notification.objects.filter(idempotency_key__contains=":digest:email:")
    assert {row.recipient for row in digest_emails} == {"olga@team.example", "ada@team.example", "max@team.example"}


def test_previews_and_dry_runs_leave_the_preparation_out(team):
    """An admin's preview would show the alerts' links and the card's wishes to whoever reads it,
    the celebrated person among the admins (here Cleo) included."""
    workspace = team["workspace"]
    write(team, "max", "Secret wish")
    dry_runs = [
        services.digest_run_now(workspace=workspace, day=day, dry_run=True)
        for day in (FRIDAY - timedelta(days=2), FRIDAY)
    ]
    planned = [m.notification for run in dry_runs for m in run.result.planned]
    assert any(":digest:" in n.idempotency_key for n in planned)  # the day's digest is previewed
    assert not [n for n in planned if ":alert:" in n.idempotency_key or ":card-" in n.idempotency_key]

    # The upcoming list over the next days: the alert's day and the card's day.
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    first = workspace_today(workspace, now=reminder.next_run_at)
    eve = member_person(
        workspace,
        name="Eve Tomorrow",
        birth_month=(first + timedelta(days=1)).month,
        birth_day=(first + timedelta(days=1)).day,
    )
    member_person(
        workspace,
        name="Dan Later",
        birth_month=(first + timedelta(days=2)).month,
        birth_day=(first + timedelta(days=2)).day,
    )
    workspace.celebration_shift = "on_day"
    workspace.save()
    ref = CardRef(workspace_id=workspace.pk, person_id=eve.pk, kind="birthday", day=first + timedelta(days=1))
    card_services.wish_save(ref=ref, author=team["max"], text="Secret wish for Eve", today=workspace_today(workspace))

    upcoming = str(selectors.upcoming_messages(workspace=workspace, days=4))

    assert "Eve Tomorrow" in upcoming
    assert "Dan Later" in upcoming
    assert "Secret wish" not in upcoming
    assert "Heads-up" not in upcoming
    assert not Notification.objects.exists()


def test_a_run_for_a_later_date_hands_out_no_card_before_its_day(team):
    workspace = team["workspace"]
    today = workspace_today(workspace)
    day = today + timedelta(days=2)
    dan = member_person(workspace, name="Dan Later", birth_month=day.month, birth_day=day.day)
    ref = CardRef(workspace_id=workspace.pk, person_id=dan.pk, kind="birthday", day=day)
    card_services.wish_save(ref=ref, author=team["max"], text="Not yet", today=today)

    services.digest_run_now(workspace=workspace, day=day)

    assert Notification.objects.filter(idempotency_key__contains=":digest:").exists()
    assert not cards(workspace).exists()
    assert not Notification.objects.filter(person=dan).exists()


def test_the_teams_card_is_a_reply_in_the_thread_of_the_days_digest_post(team):
    """With the bot in a channel, the card is posted under the day's digest post (threads.py
    releases it once the post has its ts); with a webhook it has no thread and is a plain post."""
    config = team["workspace"].channel_configs.get(kind="slack")
    config.webhook_url = ""
    config.bot_token = "xoxb-test"
    config.channel_id = "C0CELEB"
    config.save()
    write(team, "max", "Happy birthday!")

    services.digest_run_now(workspace=team["workspace"], day=FRIDAY)

    post = cards(team["workspace"]).get(person=None)
    digest = Notification.objects.get(workspace=team["workspace"], idempotency_key__contains=":digest:slack:")
    assert post.thread_parent_id == digest.idempotency_key
    assert post.status == "pending"  # waiting for the digest post's ts


def test_with_a_webhook_the_card_still_names_the_digest_as_its_thread(team):
    write(team, "max", "Happy birthday!")

    services.digest_run_now(workspace=team["workspace"], day=FRIDAY)

    post = cards(team["workspace"]).get(person=None)
    digest = Notification.objects.get(workspace=team["workspace"], idempotency_key__contains=":digest:slack:")
    assert post.thread_parent_id == digest.idempotency_key


def test_the_card_is_posted_in_every_team_chat_the_digest_posts_to(team):
    """A workspace on Microsoft Teams gets the card where it gets the digest (plain names, no mention)."""
    ChannelConfig.objects.create(
        workspace=team["workspace"],
        kind="teams",
        webhook_url="https://acme.webhook.office.com/webhookb2/x/IncomingWebhook/y/z",
    )
    write(team, "max", "Happy birthday!")

    services.digest_run_now(workspace=team["workspace"], day=FRIDAY)

    teams = cards(team["workspace"]).get(channel="teams")
    assert teams.recipient == "webhook"
    assert teams.body.startswith("The team's card for Cleo Celebrated:")
    assert "Happy birthday! — Max Member" in teams.body
    assert Notification.objects.filter(channel="teams", idempotency_key__contains=":digest:").exists()
