"""Errors gunicorn answers by itself (a request line over its limit, a worker killed at its timeout)
are JSON in the API's error shape, from a real gunicorn started with docker-compose.yml's web command."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.scenarios.api import compose_web_command
from birthdaybuddy.gunicorn_conf import error_body

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """docker-compose.yml's web command (one sync worker, a 2 s timeout) serving the service
    behind one extra path that sleeps past that timeout."""
    port = free_port()
    command = compose_web_command(port=port, overrides={"workers": 1, "timeout": 2}, environ={})
    command[0] = "tests.platform.slow_wsgi:application"
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *command],
            cwd=BASE_DIR,
            env={**os.environ, "PYTHONPATH": str(BASE_DIR)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
        time.sleep(0.1)
    yield port
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def raw_request(port: int, request_line: str, *, timeout: float = 15) -> tuple[int, dict, bytes]:
    """Sends one request over a plain socket (clients would refuse to send some of these); the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"{request_line}\r\nHost: localhost\r\nAccept: text/html\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.slow
def test_a_request_line_over_the_limit_is_a_json_414(gunicorn):
    status, headers, body = raw_request(gunicorn, f"GET /api/v1/?q={'x' * 6000} HTTP/1.1")

    assert status == 414
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    answer = json.loads(body)
    assert answer["code"] == "uri_too_long"
    assert "longer than the server accepts" in answer["detail"]
    assert int(headers["content-length"]) == len(body)


@pytest.mark.slow
def test_a_malformed_request_is_a_json_400(gunicorn):
    status, headers, body = raw_request(gunicorn, "GET /api/v1/ HTTP/9.9")

    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["code"] == "bad_request"


@pytest.mark.slow
def test_a_worker_killed_at_its_timeout_answers_a_json_500(gunicorn):
    started = time.monotonic()
    status, headers, body = raw_request(gunicorn, "GET /__slow HTTP/1.1", timeout=30)

    assert status == 500
    assert time.monotonic() - started < 20, "answered at gunicorn's timeout, not after the handler"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == json.loads(error_body(500, ""))
    assert json.loads(body)["code"] == "server_error"


@pytest.mark.slow
def test_the_service_itself_still_answers(gunicorn):
    status, headers, _ = raw_request(gunicorn, "GET /health/live HTTP/1.1")
    assert status == 200
    assert headers["content-type"].startswith("application/json")


@pytest.mark.django_db
def test_every_operation_documents_414_and_500_with_the_error_shape():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        for code in ("414", "500"):
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, method, code)
    required = schema["components"]["schemas"]["Error"]["required"]
    assert set(required) <= set(json.loads(error_body(414, "Request Line is too large (6000 > 4094)")))
