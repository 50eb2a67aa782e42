"""The liveness and readiness probes, against the real database, cache and broker."""

import pytest
from django.test import Client

from birthdaybuddy.celery import app as celery_app
from tests.factories import UserFactory

DEAD_REDIS = "redis://127.0.0.1:1/0"
HEALTH_TOKEN = "monitoring-token-0123456789"


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def detailed_client(settings) -> Client:
    """A caller entitled to the details: monitoring with the health token."""
    settings.HEALTH_TOKEN = HEALTH_TOKEN
    return Client(headers={"X-Health-Token": HEALTH_TOKEN})


def test_live_answers_without_touching_anything(client):
    # No django_db mark: a database query here would raise.
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_ready_is_200_when_every_dependency_answers(detailed_client):
    response = detailed_client.get("/health/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    for result in body["checks"].values():
        assert result["ok"] is True
        assert isinstance(result["ms"], float)


@pytest.mark.django_db
def test_ready_tells_anyone_only_ok_or_failing_per_dependency(client, settings):
    settings.HEALTH_TOKEN = HEALTH_TOKEN
    for anonymous in (client, Client(headers={"X-Health-Token": "a-guess"})):
        body = anonymous.get("/health/ready").json()
        assert body == {
            "status": "ok",
            "checks": {"database": {"ok": True}, "cache": {"ok": True}, "broker": {"ok": True}},
        }


@pytest.mark.django_db
def test_ready_details_for_staff(client):
    client.force_login(UserFactory(is_staff=True))
    body = client.get("/health/ready").json()
    assert isinstance(body["checks"]["database"]["ms"], float)
    assert "worker" in body


@pytest.mark.django_db
def test_no_token_is_accepted_while_none_is_set(settings):
    settings.HEALTH_TOKEN = ""
    body = Client(headers={"X-Health-Token": ""}).get("/health/ready").json()
    assert "ms" not in body["checks"]["database"]


@pytest.mark.django_db
def test_ready_accepts_a_trailing_slash(client):
    assert client.get("/health/ready/").status_code == 200
    assert client.get("/health/live/").status_code == 200


@pytest.mark.django_db
def test_ready_is_503_when_the_cache_is_down(client, detailed_client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        }
    }
    public = client.get("/health/ready")
    assert public.status_code == 503
    assert public.json()["checks"]["cache"] == {"ok": False}
    assert "127.0.0.1" not in public.content.decode()
    response = detailed_client.get("/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"]["ok"] is False
    assert "127.0.0.1:1" in body["checks"]["cache"]["error"] or "refused" in body["checks"]["cache"]["error"].lower()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@pytest.fixture
def dead_broker():
    """Points the Celery app at a port where nothing listens, then restores its configuration."""
    conf = celery_app.conf
    keys = ("broker_url", "broker_transport", "broker_transport_options")
    saved = {key: conf.get(key) for key in keys}
    conf.update(broker_url=DEAD_REDIS, broker_transport=None, broker_transport_options={})
    yield
    conf.update(saved)


@pytest.mark.django_db
@pytest.mark.usefixtures("dead_broker")
def test_ready_is_503_when_the_broker_is_down(client, detailed_client):
    public = client.get("/health/ready").json()
    assert public["checks"]["broker"] == {"ok": False}
    response = detailed_client.get("/health/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert "refused" in body["checks"]["broker"]["error"].lower()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["cache"]["ok"] is True


def test_probes_refuse_writes(client):
    assert client.post("/health/live").status_code == 405


def test_probes_are_not_in_the_api_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    assert not any(path.startswith("/health") for path in schema["paths"])
