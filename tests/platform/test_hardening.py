"""Deployment hardening: one proxy-trust setting, CSP and security headers on every response,
``check --deploy`` clean as docker compose runs the service."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.test import Client, override_settings

from tests.factories import UserFactory

BASE_DIR = Path(django_settings.BASE_DIR)
PROD_SECRET = "compose-check-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2

SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings
probe = {"ssl_header": settings.SECURE_PROXY_SSL_HEADER, "num_proxies": settings.REST_FRAMEWORK["NUM_PROXIES"]}
print(json.dumps(probe))
"""


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": django_settings.SETTINGS_MODULE, "PYTHONWARNINGS": "ignore"}
    environ.pop("NUM_PROXIES", None)
    environ.update(env)
    return subprocess.run(
        [sys.executable, *code], cwd=BASE_DIR, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


# --- one proxy-trust setting ------------------------------------------------------------------


def test_without_a_proxy_no_forwarded_header_is_trusted():
    result = _python(["-c", SETTINGS_PROBE])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"ssl_header": None, "num_proxies": 0}


def test_num_proxies_turns_on_both_forwarded_headers():
    result = _python(["-c", SETTINGS_PROBE], NUM_PROXIES="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "ssl_header": ["HTTP_X_FORWARDED_PROTO", "https"],
        "num_proxies": 1,
    }


@pytest.mark.django_db
def test_a_client_reaching_the_service_directly_cannot_claim_https():
    with override_settings(SECURE_PROXY_SSL_HEADER=None, SECURE_SSL_REDIRECT=True):
        response = Client().get("/api/v1/timezones", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301  # still plain HTTP: redirected


def _compose_environment() -> dict[str, str]:
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    environment = compose["x-app"]["environment"]
    resolved = {}
    for key, value in environment.items():
        value = str(value)
        value = re.sub(r"\$\{([A-Z0-9_]+):-([^}]*)\}", lambda match: match.group(2), value)
        value = re.sub(r"\$\{([A-Z0-9_]+):\?[^}]*\}", PROD_SECRET, value)
        resolved[key] = value
    return resolved


def test_compose_trusts_exactly_its_one_proxy():
    assert _compose_environment()["NUM_PROXIES"] == "1"


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_compose_defaults():
    env = _compose_environment()
    result = _python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- security headers -------------------------------------------------------------------------


def _csp(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part for part in (item.strip() for item in policy.split(";")) if part}


def _assert_strict_scripts(response) -> None:
    directives = _csp(response)
    assert "script-src" in directives, response.headers
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in directives.values()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/docs", "/api/redoc/", "/admin/login/"])
def test_every_html_page_has_a_csp_without_inline_script(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    _assert_strict_scripts(response)
    html = response.content.decode()
    # No inline script: every <script> has a src (or is data, e.g. type="application/json").
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or "application/json" in tag, tag
    assert "cdn.jsdelivr.net" not in html
    assert "fonts.googleapis.com" not in html


@pytest.mark.django_db
def test_swagger_ui_start_up_script_is_served_as_a_file():
    page = Client().get("/api/docs/").content.decode()
    script_urls = [url.replace("&amp;", "&") for url in re.findall(r'<script src="([^"]+)"', page)]
    assert all(url.startswith("/") for url in script_urls), script_urls  # this origin only
    start_up = [url for url in script_urls if "script" in url.split("?", 1)[-1]]
    assert start_up, script_urls
    response = Client().get(start_up[0])
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


@pytest.mark.django_db
def test_admin_pages_of_staff_carry_the_csp():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for path in ("/admin/", "/admin/notifications/notification/dashboard/"):
        response = client.get(path)
        assert response.status_code == 200
        _assert_strict_scripts(response)
        assert 'style="' not in response.content.decode()


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")


@pytest.mark.django_db
def test_a_too_large_body_gets_the_same_security_headers():
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = Client().post("/api/v1/auth/login", data="x" * (limit + 1), content_type="application/json")
    assert response.status_code == 413
    reference = Client().get("/api/v1/timezones")
    for header in SECURITY_HEADERS:
        assert response.headers.get(header) == reference.headers.get(header), header
        assert response.headers.get(header), header


@pytest.mark.django_db
def test_a_bad_content_length_gets_the_same_security_headers():
    response = Client().generic(
        "POST", "/api/v1/auth/login", b"{}", CONTENT_LENGTH="abc", content_type="application/json"
    )
    assert response.status_code == 400
    for header in SECURITY_HEADERS:
        assert response.headers.get(header), header
