"""The suite follows its own settings, whatever the caller's environment (or ``.env``) holds."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json
import django

django.setup()
from django.conf import settings
from birthdaybuddy.celery import app
from tests.brokers import celery_broker
from tests.notifications.conftest import WORKER_BROKER_URL

with celery_broker("memory://"):
    with app.connection_for_write() as connection:
        producer_uri = connection.as_uri()
print(json.dumps({
    "setting": settings.CELERY_BROKER_URL,
    "producer": producer_uri,
    "worker_tests": WORKER_BROKER_URL,
    "environment": "CELERY_BROKER_URL" in __import__("os").environ,
}))
"""


def test_a_broker_in_the_callers_environment_receives_nothing_from_the_tests():
    """GIVEN a shell that exports CELERY_BROKER_URL (and a REDIS_URL of its own)
    WHEN the test settings load and a test switches to its in-memory broker
    THEN tasks go to that in-memory broker, the worker tests use the test settings' Redis,
    and the variable no longer reaches Celery (or the workers the tests start)."""
    outside = "redis://127.0.0.1:1/3"
    redis_url = "redis://127.0.0.1:6379/7"
    environment = {
        **os.environ,
        "BB_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "birthdaybuddy.settings",
        "CELERY_BROKER_URL": outside,
        "REDIS_URL": redis_url,
    }
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert seen["setting"] == redis_url
    assert seen["producer"].startswith("memory://")
    assert seen["worker_tests"] == redis_url
    assert seen["environment"] is False


def test_this_run_sends_its_tasks_to_memory():
    from birthdaybuddy.celery import app

    assert "CELERY_BROKER_URL" not in os.environ
    with app.connection_for_write() as connection:
        assert connection.as_uri().startswith("memory://")
