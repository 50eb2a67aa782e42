import uuid

import pytest
import redis
from django.conf import settings as django_settings

from birthdaybuddy import ratelimit as bucket_store
from birthdaybuddy.celery import app as celery_app
from tests.notifications.chat_fakes import _google_chat_server, _teams_server, fake_google_chat, fake_teams  # noqa: F401
from tests.notifications.fakes import FakeSlack, FakeTwilio, start_smtp

# The broker real-worker tests use: the test settings' Redis, each test under a key prefix of
# its own (``broker_prefix``), so nothing outside the tests' own keys is read or removed.
WORKER_BROKER_URL = django_settings.REDIS_URL


@pytest.fixture(autouse=True)
def _notification_settings(settings, tmp_path):
    settings.NOTIFICATIONS_OUTBOX_DIR = tmp_path / "outbox"
    settings.NOTIFICATIONS_CONSOLE_FALLBACK = False
    settings.SLACK_TIMEOUT_SECONDS = 1
    settings.TWILIO_TIMEOUT_SECONDS = 1
    settings.EMAIL_TIMEOUT = 2
    # Most tests retry the same destination at simulated times; the limiter has its own tests.
    settings.NOTIFICATIONS_RATE_LIMIT_ENABLED = False
    bucket_store._local.clear()


def _drain() -> list[tuple[str, list, str | None]]:
    found = []
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            found.append((message.headers["task"], message.payload[0], message.headers.get("eta")))
            message.ack()
        queue.close()
    return found


@pytest.fixture
def queued():
    """Call it to read (and remove) the tasks queued so far: ``[(task name, args, eta)]``."""
    _drain()
    return _drain


@pytest.fixture(scope="session")
def _slack_server():
    server = FakeSlack().start()
    yield server
    server.stop()


@pytest.fixture
def fake_slack(_slack_server, settings):
    """A fake Slack; its webhook prefix is allowed and the Web API points at it."""
    _slack_server.reset()
    _slack_server.default_delay = 0.0
    settings.SLACK_WEBHOOK_URL_PREFIXES = [_slack_server.url + "/services/"]
    settings.SLACK_API_BASE_URL = _slack_server.api_url
    yield _slack_server
    _slack_server.reset()


@pytest.fixture(scope="session")
def _twilio_server():
    server = FakeTwilio().start()
    yield server
    server.stop()


@pytest.fixture
def fake_twilio(_twilio_server, settings):
    _twilio_server.reset()
    settings.TWILIO_API_BASE_URL = _twilio_server.url
    yield _twilio_server
    _twilio_server.reset()


@pytest.fixture
def smtp_server(settings):
    """aiosmtpd on a free port, with Django's SMTP backend pointed at it."""
    controller, recorder = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "BirthdayBuddy <no-reply@birthdaybuddy.test>"
    yield recorder
    controller.stop()


@pytest.fixture
def broker_prefix():
    prefix = f"bbnotif-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(WORKER_BROKER_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
