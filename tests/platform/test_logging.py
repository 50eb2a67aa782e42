"""Request ids on every log line of a request; JSON lines; the per-start file under LOG_DIR."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from birthdaybuddy.logging import RequestIdFilter, request_id_var

pytestmark = pytest.mark.urls("tests.platform.urls")

BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def console_lines():
    """What the configured ``console`` handler writes, as a callable returning the lines so far."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield lambda: [line for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        handler.setStream(previous)


def test_a_request_id_is_made_when_none_is_sent(client):
    first = client.get("/health/live")["X-Request-ID"]
    second = client.get("/health/live")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_sane_incoming_request_id_is_reused(client):
    response = client.get("/health/live", HTTP_X_REQUEST_ID="edge-proxy.42_abc")
    assert response["X-Request-ID"] == "edge-proxy.42_abc"


@pytest.mark.parametrize(
    "incoming",
    ["has spaces", "x" * 65, "line\nbreak", "trailing-newline\n", 'quote"d', "<script>", "ünïcode", ""],
)
def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/health/live", HTTP_X_REQUEST_ID=incoming)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_every_log_line_of_a_request_carries_its_id(client, console_lines):
    response = client.get("/test/chatty", HTTP_X_REQUEST_ID="chatty-1")
    assert response.status_code == 200

    lines = console_lines()
    assert len(lines) == 3, lines
    assert all("chatty-1" in line for line in lines), lines


def test_the_log_line_of_a_returned_4xx_carries_the_request_id(client, console_lines):
    # Django logs returned (not raised) error responses after the middleware chain has run.
    response = client.get("/test/refuse", HTTP_X_REQUEST_ID="refused-1")
    assert response.status_code == 400

    lines = console_lines()
    assert len(lines) == 1, lines
    assert "Bad Request: /test/refuse" in lines[0]
    assert "refused-1" in lines[0]


def test_the_error_log_of_a_500_carries_the_request_id(client, console_lines):
    response = client.get("/test/boom", HTTP_X_REQUEST_ID="boom-1")
    assert response.status_code == 500

    lines = console_lines()
    first = next(line for line in lines if "Internal Server Error" in line)
    assert "boom-1" in first
    assert "RuntimeError" in "\n".join(lines)  # the traceback goes to the log, not the client


def test_the_request_id_is_gone_after_the_request(client, caplog):
    client.get("/health/live", HTTP_X_REQUEST_ID="gone-1")
    caplog.handler.addFilter(RequestIdFilter())
    logging.getLogger("birthdaybuddy.tests.platform").warning("after the request")
    assert request_id_var.get() == "-"
    assert [record.request_id for record in caplog.records] == ["-"]


def test_the_development_servers_access_line_gets_the_id_of_the_request_it_reports(client, caplog):
    client.get("/health/live", HTTP_X_REQUEST_ID="served-1")
    caplog.handler.addFilter(RequestIdFilter())
    logging.getLogger("django.server").warning('"GET /health/live HTTP/1.1" 200 16')
    logging.getLogger("birthdaybuddy.tests.platform").warning("anything else")
    assert [record.request_id for record in caplog.records] == ["served-1", "-"]


def test_requests_do_not_leak_ids_into_each_other(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    client.get("/test/chatty", HTTP_X_REQUEST_ID="first")
    client.get("/test/chatty", HTTP_X_REQUEST_ID="second")
    ids = [record.request_id for record in caplog.records if record.name.startswith("birthdaybuddy")]
    assert ids == ["first", "first", "second", "second"]


SCRIPT = """
import django
django.setup()
from django.test import Client
Client().get("/no/such/page", HTTP_X_REQUEST_ID="json-line-1")
"""


def _run_django(tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": django_settings.SETTINGS_MODULE,
        "LOG_LEVEL": "INFO",
        "PYTHONWARNINGS": "ignore",
    }
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=True
    )


def test_production_logs_are_json_lines_and_go_to_a_file_per_start(tmp_path):
    log_dir = tmp_path / "logs"
    result = _run_django(tmp_path, LOG_FORMAT="json", LOG_DIR=str(log_dir))

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]  # every line is JSON
    not_found = [line for line in lines if line["message"] == "Not Found: /no/such/page"]
    assert len(not_found) == 1, result.stderr
    assert not_found[0]["request_id"] == "json-line-1"
    assert not_found[0]["level"] == "WARNING"
    assert not_found[0]["logger"] == "django.request"
    assert "time" in not_found[0]

    files = list(log_dir.glob("birthdaybuddy-*.log"))
    assert len(files) == 1
    assert re.fullmatch(r"birthdaybuddy-\d{8}T\d{6}Z-\d+\.log", files[0].name)
    in_file = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert any(line["request_id"] == "json-line-1" and line["logger"] == "django.request" for line in in_file)

    _run_django(tmp_path, LOG_FORMAT="json", LOG_DIR=str(log_dir))
    assert len(list(log_dir.glob("birthdaybuddy-*.log"))) == 2  # a new file for every start


def test_development_logs_are_readable_text_with_the_request_id(tmp_path):
    result = _run_django(tmp_path, LOG_FORMAT="text", LOG_DIR="")
    line = next(line for line in result.stderr.splitlines() if "Not Found" in line)
    assert "[json-line-1]" in line
    assert "WARNING" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_mail_sent_in_the_worker_is_logged_at_info_not_as_redirected_output(settings, caplog):
    """The default mail backend (EMAIL_URL=consolemail://) in a worker, whose stdout Celery sends
    to the log at WARNING: the mail is one INFO record, nothing reaches the redirected output."""
    from celery.utils.log import LoggingProxy
    from django.core import mail

    from birthdaybuddy import settings as project_settings
    from birthdaybuddy.celery import app

    if not os.environ.get("EMAIL_URL", "consolemail://").startswith("consolemail:"):
        pytest.skip("EMAIL_URL names a real mail server")
    settings.EMAIL_BACKEND = project_settings.EMAIL_BACKEND  # what runs outside tests (pytest uses locmem)
    stdout = sys.stdout
    sys.stdout = LoggingProxy(logging.getLogger("celery.redirected"), app.conf.worker_redirect_stdouts_level)
    try:
        with caplog.at_level(logging.DEBUG):
            sent = mail.send_mail("Your code", "It is 123456.", "from@example.com", ["ada@example.com"])
    finally:
        sys.stdout = stdout

    assert sent == 1
    records = [(r.name, r.levelname) for r in caplog.records]
    assert ("celery.redirected", "WARNING") not in records, records
    [record] = [r for r in caplog.records if r.name == "birthdaybuddy.mail"]
    assert record.levelname == "INFO"
    assert "ada@example.com" in record.getMessage()
    assert "It is 123456." in record.getMessage()
