"""A reminder due at once is announced after commit (``reminders_due``) so the engine ticks early.

The announcement is a nudge, not the delivery: when it cannot be sent (the broker is down), the
reminder is saved all the same and the next tick sends its message. No receiver of a signal
carries work whose failure would lose a message.
"""

from datetime import UTC, datetime, timedelta

import pytest

from notifications.models import Notification
from reminders.models import Reminder, ReminderKind
from reminders.services import reminder_create
from scheduling.tick import tick
from tests.brokers import celery_broker

# A broker nobody listens on: publishing the early tick fails at once (connection refused).
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.mark.django_db(transaction=True)
def test_a_due_reminder_whose_announcement_fails_is_saved_and_sent_by_the_next_tick(make_workspace, person, caplog):
    workspace = make_workspace(slack=False)
    ana = person(workspace, email="ana@example.com")
    now = datetime.now(UTC)

    with celery_broker(UNREACHABLE_BROKER, {"max_retries": 0}):
        reminder = reminder_create(
            workspace=workspace,
            data={"kind": "one_time", "run_at": now - timedelta(seconds=1), "recipients": [ana.pk], "message": "Hi"},
            now=now,
        )

    failed = [r for r in caplog.records if r.exc_info and "_announce_due in on_commit" in r.getMessage()]
    assert len(failed) == 1  # the announcement was tried, and failed
    saved = Reminder.objects.get(pk=reminder.pk, kind=ReminderKind.ONE_TIME)
    assert saved.next_run_at is not None
    assert saved.next_run_at <= now
    assert not Notification.objects.filter(workspace=workspace).exists()

    tick(now=now + timedelta(seconds=1))

    sent = Notification.objects.filter(workspace=workspace, recipient="ana@example.com")
    assert sent.count() == 1
