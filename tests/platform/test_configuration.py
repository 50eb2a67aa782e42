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


def test_compose_web_runs_sync_gunicorn_workers_by_default():
    from bench.scenarios.api import compose_web_command

    command = compose_web_command(port=8123, environ={})
    assert command[0] == "birthdaybuddy.wsgi"
    options = dict(part[2:].split("=", 1) for part in command[1:])
    assert options["bind"] == "127.0.0.1:8123"
    assert (options["workers"], options["worker-class"], options["threads"]) == ("5", "sync", "1")
    assert options["access-logfile"] == "-"


def test_compose_web_command_takes_the_environment_and_overrides():
    from bench.scenarios.api import compose_web_command

    environ = {"WEB_CONCURRENCY": "3", "WEB_WORKER_CLASS": "gthread", "WEB_THREADS": "2"}
    options = dict(part[2:].split("=", 1) for part in compose_web_command(port=1, environ=environ)[1:])
    assert (options["workers"], options["worker-class"], options["threads"]) == ("3", "gthread", "2")
    overridden = compose_web_command(port=1, environ=environ, overrides={"workers": 7, "keep-alive": 0})
    options = dict(part[2:].split("=", 1) for part in overridden[1:])
    assert (options["workers"], options["keep-alive"], options["worker-class"]) == ("7", "0", "gthread")


def test_env_example_documents_every_compose_variable():
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    example = (BASE_DIR / ".env.example").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
    assert {"WEB_CONCURRENCY", "WEB_WORKER_CLASS", "WEB_THREADS"} <= used
    assert sorted(name for name in used if f"# {name}=" not in example) == []
