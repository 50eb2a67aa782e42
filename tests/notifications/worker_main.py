"""Starts a real Celery worker for ``test_worker.py`` (``python -m tests.notifications.worker_main``).

The same as ``celery -A birthdaybuddy worker --pool=prefork -c 2``, plus what the test needs
and the environment cannot say: a broker key prefix of its own and kombu's fast restore of
unacknowledged messages (visibility timeout 10 s, checked every second — see FACTS.md).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birthdaybuddy.settings")
django.setup()

from django.conf import settings  # noqa: E402 - after django.setup()

from birthdaybuddy.celery import app  # noqa: E402

settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = False
settings.NOTIFICATIONS_BATCH_THRESHOLD = int(os.environ["BB_TEST_BATCH_THRESHOLD"])
settings.NOTIFICATIONS_BATCH_SIZE = int(os.environ["BB_TEST_BATCH_SIZE"])
app.conf.broker_url = os.environ["BB_TEST_BROKER_URL"]
app.conf.broker_transport_options = {
    "global_keyprefix": os.environ["BB_TEST_BROKER_PREFIX"],
    "visibility_timeout": 10,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

if __name__ == "__main__":
    beat = (
        ["-B", "--scheduler=django_celery_beat.schedulers:DatabaseScheduler"] if os.environ.get("BB_TEST_BEAT") else []
    )
    app.worker_main(
        [
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            f"--hostname=bbnotif-test-{os.getpid()}@%h",
            *beat,
        ]
    )
