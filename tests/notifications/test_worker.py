"""A real Celery worker (prefork, 2 processes) killed in the middle of delivering.

What may be duplicated, and why: a Slack post that was in flight when the worker died (the
request reached Slack, the worker never recorded the answer) is sent once more after the
sweeper finds its row stuck in ``sending``; the row records it (``retried_after_unknown``,
``last_error``), and it can happen at most once per notification. Nothing else is sent twice,
and nothing is lost: messages the broker still holds are redelivered (``acks_late`` + the
visibility timeout) and rows the broker forgot are re-queued by the sweeper.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from notifications import services
from notifications.models import DeliveryAttempt, Notification
from tests.brokers import celery_broker
from tests.notifications.conftest import WORKER_BROKER_URL as BROKER_URL
from tests.notifications.factories import ChannelConfigFactory

COUNT = 30
LEASE_SECONDS = 2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(django_settings.EMBEDDED, reason="needs PostgreSQL and Redis"),
]


class Worker:
    def __init__(self, env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in kill()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.notifications.worker_main"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the main process and its pool children
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError("worker did not start:\n" + self.log_path.read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL to the worker's own process group, like a machine losing power."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()


def wait_for(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(message)


@pytest.fixture
def workers(tmp_path, fake_slack, broker_prefix):
    started: list[Worker] = []
    database = connection.settings_dict

    def start(*, batch_threshold: int, batch_size: int) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
            "SLACK_WEBHOOK_URL_PREFIXES": fake_slack.url + "/services/",
            "SLACK_TIMEOUT_SECONDS": "5",
            "NOTIFICATIONS_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
            "WORKER_LIVENESS_FILE": str(tmp_path / f"alive{len(started)}"),
            "WORKER_LIVENESS_INTERVAL_SECONDS": "0.5",
            "BB_TEST_BROKER_URL": BROKER_URL,
            "BB_TEST_BROKER_PREFIX": broker_prefix,
            "BB_TEST_BATCH_THRESHOLD": str(batch_threshold),
            "BB_TEST_BATCH_SIZE": str(batch_size),
            "LOG_LEVEL": "INFO",
        }
        worker = Worker(env, tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        worker.wait_ready()
        # The main loop touches its liveness file (docker compose's health check reads its age).
        alive = Path(env["WORKER_LIVENESS_FILE"])
        wait_for(alive.exists, 10, "the worker wrote no liveness file")
        first = alive.stat().st_mtime
        wait_for(lambda: alive.stat().st_mtime > first, 10, "the worker does not touch its liveness file")
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("scenario", ["redelivery", "broker_lost"])
def test_worker_killed_mid_batch_sends_each_notification_exactly_once(
    scenario, workers, fake_slack, broker_prefix, settings
):
    """GIVEN 30 Slack notifications queued to a prefork worker (one task each in the first
    scenario, batches of 5 sent concurrently in the second)
    WHEN the whole worker is SIGKILLed mid-way — and in "broker_lost" the broker's messages
    are gone too (a Redis restart without persistence) — then a new worker starts and the
    sweeper runs as beat would once the dead tasks' time limit has passed
    THEN every notification ends ``sent``, Slack received each one once, except at most one
    duplicate for each post that was in flight at the kill, recorded on its row."""
    batched = scenario == "broker_lost"
    threshold, size = (10, 5) if batched else (1_000, 50)
    settings.NOTIFICATIONS_BATCH_THRESHOLD, settings.NOTIFICATIONS_BATCH_SIZE = threshold, size  # who queues decides
    fake_slack.default_delay = 0.4 if batched else 0.15
    config = ChannelConfigFactory(webhook_url=fake_slack.webhook_url)
    first = workers(batch_threshold=threshold, batch_size=size)

    with celery_broker(BROKER_URL, {"global_keyprefix": broker_prefix}):
        with transaction.atomic():
            ids = services.notifications_write(
                notifications=[
                    Notification(
                        workspace=config.workspace,
                        channel="slack",
                        recipient="webhook",
                        body=f"message {n:02d}",
                        idempotency_key=f"kill-test:{n}",
                    )
                    for n in range(COUNT)
                ]
            )
            services.notifications_enqueue(notification_ids=ids)  # queued when this commits

        wait_for(lambda: len(fake_slack.received) >= 6, 20, "the worker sent nothing")
        first.kill()
        killed_at = time.monotonic()

        in_flight = set(Notification.objects.filter(status="sending").values_list("body", flat=True))
        sent_before = Notification.objects.filter(status="sent").count()
        assert in_flight, "the kill should land while posts are in flight"
        assert sent_before < COUNT

        if batched:
            client = redis.Redis.from_url(BROKER_URL)
            client.delete(*client.scan_iter(match=broker_prefix + "*"))  # every queued message is gone
        # The sweeper as beat runs it once the dead worker's claim leases have lapsed (and, for
        # "broker_lost", once pending rows have waited past the grace period).
        settings.NOTIFICATIONS_CLAIM_LEASE_SECONDS = LEASE_SECONDS
        time.sleep(LEASE_SECONDS + 0.5)
        settings.NOTIFICATIONS_SWEEP_PENDING_GRACE_SECONDS = 0 if batched else 3_600
        counts = services.notifications_sweep()
        assert counts["reset"] == len(in_flight)

        workers(batch_threshold=threshold, batch_size=size)
        wait_for(
            lambda: Notification.objects.filter(status="sent").count() == COUNT,
            30,
            f"not all sent: {Counter(Notification.objects.values_list('status', flat=True))}",
        )
        if not batched:
            # Let kombu redeliver the killed worker's unacknowledged messages (visibility timeout
            # 10 s): they must find their notifications sent and do nothing.
            while time.monotonic() < killed_at + 13:
                time.sleep(0.2)

    received = Counter(fake_slack.texts())
    assert set(received) == {f"message {n:02d}" for n in range(COUNT)}
    duplicated = {text for text, times in received.items() if times > 1}
    assert max(received.values()) <= 2
    assert duplicated <= in_flight
    assert Notification.objects.filter(status="sent").count() == COUNT
    assert DeliveryAttempt.objects.filter(outcome="success").count() == COUNT
    for notification in Notification.objects.filter(body__in=in_flight):
        assert notification.retried_after_unknown
        assert "worker lost" in notification.delivery_attempts.get(outcome="unknown").error
    print(f"{scenario}: {len(in_flight)} in flight at the kill, {len(duplicated)} duplicated post(s)")
