"""Driving the tick occurrence by occurrence, as beat would."""

from datetime import datetime, timedelta

from notifications.models import Notification
from reminders.models import Reminder
from scheduling.tick import tick


def run_occurrences(reminder: Reminder, *, until: datetime, limit: int = 200) -> list[datetime]:
    """Ticks just before and just after each ``next_run_at`` up to ``until``; returns the instants that fired.

    Asserts that nothing is sent a second early, exactly the occurrence's messages at it, and
    nothing more on a second tick a minute later.
    """
    fired: list[datetime] = []
    for _ in range(limit):
        reminder.refresh_from_db()
        due = reminder.next_run_at
        if due is None or due > until:
            break
        before = Notification.objects.count()
        tick(now=due - timedelta(seconds=1))
        assert Notification.objects.count() == before, f"sent early, before {due}"
        tick(now=due + timedelta(seconds=30))
        after = Notification.objects.count()
        assert after > before, f"nothing sent at {due}"
        tick(now=due + timedelta(seconds=90))
        assert Notification.objects.count() == after, f"sent twice at {due}"
        fired.append(due)
    return fired
