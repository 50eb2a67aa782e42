"""Text from data reaches each channel escaped for it: Slack mrkdwn, email HTML, plain SMS."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from notifications.models import Notification
from notifications.providers.base import Message
from notifications.providers.email import EmailProvider
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create
from scheduling.tick import tick
from tests.reminders.conftest import local

HOSTILE = "Ana <!channel> <!here> <@U0BOSS> <https://evil.example|payroll> & co"
SLACK_SAFE = "Ana &lt;!channel&gt; &lt;!here&gt; &lt;@U0BOSS&gt; &lt;https://evil.example|payroll&gt; &amp; co"
CREATED = datetime(2026, 6, 1, 8, tzinfo=UTC)
AT = datetime(2026, 6, 2, 10, tzinfo=UTC)


def markup_of(text: str) -> list[str]:
    """Slack's control sequences in ``text``: what would ping, mention or link."""
    return re.findall(r"<[!@#][^>]*>|<https?://[^>]*>", text)


def digest_today(workspace, person, **fields) -> Reminder:
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    day = reminder.next_run_at.date()  # the workspace is in UTC
    person(workspace, birth_month=day.month, birth_day=day.day, **fields)
    return reminder


@pytest.mark.django_db
def test_a_name_in_the_slack_digest_is_shown_never_acted_on(make_workspace, person):
    workspace = make_workspace()
    reminder = digest_today(workspace, person, name=HOSTILE, slack_user_id="U0ANA1")
    person_day = reminder.next_run_at.date()
    person(workspace, name="Bo <!everyone>", birth_month=person_day.month, birth_day=person_day.day)

    tick(now=reminder.next_run_at + timedelta(seconds=5))

    body = Notification.objects.get(channel="slack").body
    assert markup_of(body) == ["<@U0ANA1>"]  # the stored Slack id is the only mention
    assert "Bo &lt;!everyone&gt;" in body


@pytest.mark.django_db
def test_a_stored_slack_id_that_is_not_one_gives_no_markup(make_workspace, person):
    workspace = make_workspace()
    reminder = digest_today(workspace, person, name="Ana", slack_user_id="U1>|<!channel")

    tick(now=reminder.next_run_at + timedelta(seconds=5))

    body = Notification.objects.get(channel="slack").body
    assert markup_of(body) == []
    assert "Ana" in body


@pytest.mark.django_db
def test_personal_greetings_escape_the_name_for_their_channel(make_workspace, person, settings):
    settings.NOTIFICATIONS_CONSOLE_FALLBACK = True
    workspace = make_workspace(sms=True)
    reminder = Reminder.objects.get(workspace=workspace, kind=ReminderKind.BIRTHDAY_DIGEST)
    Reminder.objects.filter(pk=reminder.pk).update(personal_greetings=True)
    day = reminder.next_run_at.date()
    person(
        workspace,
        name=HOSTILE,
        birth_month=day.month,
        birth_day=day.day,
        phone="+15005550009",
        preferred_channels=["sms"],
    )

    tick(now=reminder.next_run_at + timedelta(seconds=5))

    sms = Notification.objects.get(channel="sms")
    assert "Ana <!channel>" in sms.body  # plain text: shown as written, no entities
    assert "&lt;" not in sms.body
    slack = Notification.objects.get(channel="slack")
    assert markup_of(slack.body) == []


@pytest.mark.django_db
def test_event_titles_and_reminder_text_are_escaped_once_in_slack(make_workspace, make_event, person):
    workspace = make_workspace(tz="UTC")
    starts = local(date(2026, 6, 10), time(15), "UTC")
    event = make_event(
        workspace,
        title="Review <!here> & <https://x.example|vote>",
        kind="appointment",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
    )
    reminder_create(
        workspace=workspace,
        now=CREATED,
        data={
            "kind": "event",
            "event_id": event.pk,
            "audience": "workspace_channel",
            "channels": ["slack"],
            "offset_minutes": 60,
            "message": "About {{ event.title }}: be there <!here>",
        },
    )

    tick(now=starts - timedelta(minutes=59))

    body = Notification.objects.get(channel="slack").body
    title = "Review &lt;!here&gt; &amp; &lt;https://x.example|vote&gt;"
    assert f"About {title}: be there <!here>" in body  # the admin's own text is theirs; data is escaped once
    assert "&amp;lt;" not in body


def test_email_html_escapes_data_and_the_text_part_stays_plain():
    provider = EmailProvider(from_name="Team", reply_to="", rate_key=None, rate_per_second=None)
    message = Message(
        notification_id="00000000-0000-0000-0000-000000000001",
        channel="email",
        recipient="ana@example.com",
        subject="Hi <b>Ana</b>",
        body="Happy birthday, <script>alert(1)</script> & co",
        workspace_name="<i>Lima</i>",
    )

    email = provider.build(message)

    html = email.alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<i>Lima</i>" not in html
    assert "<b>Ana</b>" not in html
    assert email.body == "Happy birthday, <script>alert(1)</script> & co"
