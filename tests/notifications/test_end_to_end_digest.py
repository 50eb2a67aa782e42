"""The product promise, end to end: a real worker with embedded beat delivers the digest.

Nothing is called directly: beat (django-celery-beat's database scheduler) runs the tick,
the tick writes notifications, the worker delivers them through the real slack-sdk client
to a local fake Slack.
"""

import os
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from notifications.models import Notification
from reminders.models import Reminder
from scheduling.models import JobRun, Occurrence
from tests.factories import PersonFactory, WorkspaceFactory
from tests.notifications.conftest import WORKER_BROKER_URL as BROKER_URL
from tests.notifications.factories import ChannelConfigFactory
from tests.notifications.test_worker import Worker, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(django_settings.EMBEDDED, reason="needs PostgreSQL and Redis"),
]


def _workspace_notifying_soon(tz: str, fake_slack, *, born_on):
    """A workspace whose digest is due a few seconds from now, with one person born on ``born_on``."""
    local_now = datetime.now(tz=UTC).astimezone(ZoneInfo(tz))
    notify = (local_now + timedelta(seconds=6)).replace(microsecond=0)
    workspace = WorkspaceFactory(timezone=tz, notify_at=notify.time())
    ChannelConfigFactory(workspace=workspace, webhook_url=fake_slack.webhook_url)
    person_day = born_on or notify.date()
    PersonFactory(
        workspace=workspace,
        name=f"Birthday {tz}",
        birth_month=person_day.month,
        birth_day=person_day.day,
        slack_user_id="U0E2E",
    )
    return workspace, notify


@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_deliver_one_digest_at_notify_at_and_nothing_where_the_date_differs(
    tmp_path, fake_slack, broker_prefix
):
    """GIVEN a workspace in Kiritimati (UTC+14) with Slack configured and a person whose birthday
    is its local today, and one in Pago Pago (UTC-11, always another date) with a person born
    on that same date
    WHEN a real worker with embedded beat runs the tick every 2 seconds
    THEN Kiritimati's channel gets one digest naming and mentioning the person, at its
    notify_at, and Pago Pago gets nothing; later ticks send nothing more."""
    every_two_seconds = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(
        name="tick (test)", defaults={"task": "scheduling.tick", "interval": every_two_seconds}
    )
    kiritimati, notify = _workspace_notifying_soon("Pacific/Kiritimati", fake_slack, born_on=None)
    pago_pago, _ = _workspace_notifying_soon("Pacific/Pago_Pago", fake_slack, born_on=notify.date())
    due_at = Reminder.objects.get(workspace=kiritimati).next_run_at
    assert due_at == notify.astimezone(UTC)

    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "SLACK_WEBHOOK_URL_PREFIXES": fake_slack.url + "/services/",
        "BB_TEST_BROKER_URL": BROKER_URL,
        "BB_TEST_BROKER_PREFIX": broker_prefix,
        "BB_TEST_BATCH_THRESHOLD": "50",
        "BB_TEST_BATCH_SIZE": "50",
        "BB_TEST_BEAT": "1",
    }
    worker = Worker(env, tmp_path / "worker.log")
    try:
        worker.wait_ready()
        wait_for(
            lambda: len(fake_slack.received) >= 1, 40, "no digest arrived:\n" + worker.log_path.read_text()[-2000:]
        )
        arrived = datetime.now(tz=UTC)
        wait_for(
            lambda: Occurrence.objects.filter(reminder__workspace=pago_pago).exists(),
            40,
            "Pago Pago's digest never ran",
        )
        time.sleep(5)  # more ticks: nothing more may be sent
    finally:
        worker.kill()

    assert arrived >= due_at
    assert len(fake_slack.received) == 1
    (text,) = fake_slack.texts()
    assert "<@U0E2E>" in text
    notification = Notification.objects.get()
    assert notification.workspace_id == kiritimati.pk
    assert notification.status == "sent"
    assert Occurrence.objects.get(reminder__workspace=pago_pago).outcome == "empty"
    assert JobRun.objects.filter(kind="tick").count() >= 3
