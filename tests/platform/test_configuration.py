"""Configuration files stay in step with the settings: .env.example and docker-compose.yml."""

import re
from pathlib import Path

import yaml
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
ENV_READ = re.compile(r'env\.(?:str|bool|int|float|list|dict|json|url|db|cache|email_url|path)\(\s*"([A-Z][A-Z0-9_]*)"')


def _variables_read_by_settings() -> set[str]:
    return set(ENV_READ.findall((BASE_DIR / "birthdaybuddy" / "settings.py").read_text()))


def test_settings_read_variables_at_all():
    assert {"DATABASE_URL", "SECRET_KEY", "LOG_DIR"} <= _variables_read_by_settings()


def test_env_example_documents_every_variable_the_settings_read():
    example = (BASE_DIR / ".env.example").read_text().splitlines()
    documented = {match.group(1) for line in example if (match := re.match(r"#?\s?([A-Z][A-Z0-9_]*)=", line))}
    assert sorted(_variables_read_by_settings() - documented) == []


def test_env_example_sets_nothing_by_default():
    # Copying it to .env must not change how `make run` behaves until a line is uncommented.
    active = [
        line for line in (BASE_DIR / ".env.example").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert active == []


def test_compose_services_and_their_order():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        environment = services[name]["environment"]
        assert environment["PRODUCTION"] == "1"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert environment["CELERY_BROKER_URL"].startswith("redis://redis:")
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["restart"] == "no"
    assert "django_celery_beat.schedulers:DatabaseScheduler" in " ".join(services["beat"]["command"])
    assert "/health/live" in " ".join(services["web"]["healthcheck"]["test"])
