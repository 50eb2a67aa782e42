"""The API's general throttles (``birthdaybuddy.api.throttling``): token buckets in the real Redis."""

import time

import pytest
from django.core.cache import cache
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from birthdaybuddy import ratelimit
from birthdaybuddy.api.throttling import AnonRateThrottle, UserRateThrottle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
factory = APIRequestFactory()


class PingView(APIView):
    permission_classes = (AllowAny,)
    authentication_classes = ()
    throttle_classes = (AnonRateThrottle, UserRateThrottle)

    def get(self, request):
        return Response({"ok": True})


def ping(*, user=None, ip="192.0.2.1"):
    request = factory.get("/ping", REMOTE_ADDR=ip)
    if user is not None:
        force_authenticate(request, user=user)
    return PingView.as_view()(request)


@pytest.fixture
def rates(monkeypatch):
    def set_rates(**rates):
        for scope, rate in rates.items():
            monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, scope, rate)

    return set_rates


@pytest.fixture
def redis_cache():
    if not ratelimit.uses_redis():
        pytest.skip("the token bucket lives in Redis")


def test_a_user_gets_the_burst_then_waits_for_the_next_slot(redis_cache, rates):
    rates(user="3/min")
    user = UserFactory()
    assert [ping(user=user).status_code for _ in range(3)] == [200, 200, 200]
    refused = ping(user=user)
    assert refused.status_code == 429
    assert refused.data["code"] == "throttled"
    assert 19 <= float(refused["Retry-After"]) <= 20  # the next slot: 60 s / 3 after the first
    # Refusals reserve nothing: asking again does not push the slot further away.
    assert ping(user=user)["Retry-After"] == refused["Retry-After"]
    # Another user, and anonymous callers, have their own buckets.
    assert ping(user=UserFactory()).status_code == 200
    assert ping().status_code == 200


def test_the_bucket_refills_at_the_rate(redis_cache, rates):
    rates(user="2/s")
    user = UserFactory()
    assert [ping(user=user).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(0.55)  # one slot every 0.5 s
    assert [ping(user=user).status_code for _ in range(2)] == [200, 429]


def test_anonymous_callers_are_counted_per_address(redis_cache, rates):
    rates(anon="2/min")
    assert [ping(ip="198.51.100.1").status_code for _ in range(3)] == [200, 200, 429]
    assert ping(ip="198.51.100.2").status_code == 200


def test_the_bucket_is_one_integer_under_drfs_key(redis_cache, rates):
    """One small value per user (DRF kept a list of request times), in the ``throttle`` namespace."""
    rates(user="600/min")
    user = UserFactory()
    for _ in range(50):
        ping(user=user)
    raw = cache.client.get_client().get(cache.make_key(f"throttle_user_{user.pk}"))
    assert int(raw) > 0
    assert cache.client.get_client().pttl(cache.make_key(f"throttle_user_{user.pk}")) > 0


def test_a_history_left_by_drfs_throttle_counts_as_an_empty_bucket(redis_cache, rates):
    rates(user="3/min")
    user = UserFactory()
    cache.set(f"throttle_user_{user.pk}", [time.time()] * 3, 60)  # the old format under the same key
    assert [ping(user=user).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_an_unreachable_redis_lets_requests_through(redis_cache, rates, settings, caplog):
    rates(user="1/min")
    user = UserFactory()
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": {}},
    }
    assert [ping(user=user).status_code for _ in range(3)] == [200, 200, 200]
    assert "rate limiter unavailable" in caplog.text


def test_on_the_file_cache_drfs_own_algorithm_applies(rates, settings, tmp_path):
    rates(user="2/min")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    }
    user = UserFactory()
    assert [ping(user=user).status_code for _ in range(3)] == [200, 200, 429]
    assert isinstance(cache.get(f"throttle_user_{user.pk}"), list)  # DRF's history of request times
