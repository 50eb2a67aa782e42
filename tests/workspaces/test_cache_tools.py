"""Staff cache tools: GET /api/v1/admin/cache (keys and sizes per namespace) and clearing a namespace.

Runs against the configured cache: Redis normally, the file cache with BB_TEST_EMBEDDED=1
(which cannot list keys; the tests check what it can do instead).
"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from birthdaybuddy import cache as bb_cache
from tests.conftest import client_for
from tests.factories import PersonFactory
from tests.workspaces.helpers import assert_error

pytestmark = pytest.mark.django_db

CACHE_URL = "/api/v1/admin/cache"
REDIS = bb_cache.backend_name() == "redis"
needs_redis = pytest.mark.skipif(not REDIS, reason="per-namespace figures need Redis")
needs_file_cache = pytest.mark.skipif(REDIS, reason="the file cache's fallbacks")


@pytest.fixture
def warm(june_15, workspace, member):
    """A workspace whose birthdays have been read once (so cached), and the member who read them."""
    PersonFactory.create_batch(3, workspace=workspace, birth_month=6, birth_day=20)
    client = client_for(member)
    assert client.get(birthdays_url(workspace)).status_code == 200
    return workspace, client


@pytest.fixture
def june_15():
    with time_machine.travel(datetime(2026, 6, 15, 12, tzinfo=UTC), tick=False):
        yield


def birthdays_url(workspace) -> str:
    return reverse("workspace-birthday-list", kwargs={"workspace_id": workspace.id})


def stats(client) -> dict:
    response = client.get(CACHE_URL)
    assert response.status_code == 200, response.json()
    return response.json()


def by_name(body) -> dict[str, dict]:
    return {namespace["name"]: namespace for namespace in body["namespaces"]}


def test_stats_list_every_namespace(warm, staff_user):
    body = stats(client_for(staff_user))
    assert {"birthdays", "throttle", "ratelimit"} <= set(by_name(body))
    assert set(body) == {"backend", "key_prefix", "namespaces", "total", "note"}
    assert body["backend"] == bb_cache.backend_name()
    for namespace in body["namespaces"]:
        assert set(namespace) == {"name", "description", "keys", "bytes"}
        assert namespace["description"]


@needs_redis
def test_redis_stats_count_keys_and_bytes(warm, staff_user):
    body = stats(client_for(staff_user))
    birthdays = by_name(body)["birthdays"]
    assert birthdays["keys"] == 3  # the workspace's version, the cached rows and the cached page
    assert birthdays["bytes"] > 0
    assert by_name(body)["throttle"]["keys"] >= 1  # the requests themselves were throttle-counted
    assert body["total"]["keys"] >= birthdays["keys"] + by_name(body)["throttle"]["keys"]


@needs_file_cache
def test_file_cache_stats_give_the_totals_only(warm, staff_user):
    body = stats(client_for(staff_user))
    assert by_name(body)["birthdays"] == {
        "name": "birthdays",
        "description": by_name(body)["birthdays"]["description"],
        "keys": None,
        "bytes": None,
    }
    assert body["total"]["keys"] >= 2
    assert body["total"]["bytes"] > 0
    assert "cannot list keys" in body["note"]


@pytest.mark.parametrize("style", ["query", "path"])
def test_clearing_birthdays_makes_the_next_read_recompute(
    style, warm, staff_user, django_assert_num_queries, django_assert_max_num_queries
):
    workspace, member_client = warm
    with django_assert_num_queries(1):  # warm: the membership only, no people query
        member_client.get(birthdays_url(workspace))
    url = f"{CACHE_URL}?namespace=birthdays" if style == "query" else f"{CACHE_URL}/birthdays"

    response = client_for(staff_user).delete(url)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["namespace"] == "birthdays"
    if REDIS:
        assert body["deleted"] == 3
        assert by_name(stats(client_for(staff_user)))["birthdays"]["keys"] == 0
    else:
        assert body["deleted"] is None
        assert "1 workspace" in body["detail"] or "workspace(s)" in body["detail"]
    with django_assert_num_queries(2):  # cold again
        assert member_client.get(birthdays_url(workspace)).status_code == 200


@needs_redis
def test_clearing_a_namespace_leaves_the_others_and_other_prefixes(warm, staff_user):
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    foreign = "someone-else:1:birthdays:keep-me"
    redis.set(foreign, "x")
    try:
        response = client_for(staff_user).delete(f"{CACHE_URL}?namespace=birthdays")
        assert response.status_code == 200
        assert redis.get(foreign) == b"x"
        assert by_name(stats(client_for(staff_user)))["throttle"]["keys"] >= 1

        throttle = client_for(staff_user).delete(f"{CACHE_URL}/throttle")
        assert throttle.status_code == 200
        assert throttle.json()["deleted"] >= 1
    finally:
        redis.delete(foreign)


@needs_file_cache
def test_file_cache_cannot_clear_throttle(staff_user):
    response = client_for(staff_user).delete(f"{CACHE_URL}/throttle")
    assert_error(response, 400, "namespace_not_clearable")


@pytest.mark.parametrize(
    "url", [f"{CACHE_URL}?namespace=nope", f"{CACHE_URL}/nope", CACHE_URL, f"{CACHE_URL}?namespace="]
)
def test_unknown_or_missing_namespace_is_400_listing_the_valid_ones(staff_user, url):
    cache.set("birthdays:probe", 1)
    body = assert_error(client_for(staff_user).delete(url), 400, "invalid_namespace", field="namespace")
    assert "birthdays" in body["detail"]
    assert "throttle" in body["detail"]
    assert set(body["namespaces"]) >= {"birthdays", "throttle", "ratelimit"}
    assert cache.get("birthdays:probe") == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", CACHE_URL), ("delete", f"{CACHE_URL}?namespace=birthdays"), ("delete", f"{CACHE_URL}/birthdays")],
)
def test_cache_tools_are_staff_only(api_client, owner, method, url):
    """Even a workspace owner is not platform staff."""
    cache.set("birthdays:probe", 1)
    assert_error(getattr(client_for(owner), method)(url), 403)
    assert_error(getattr(api_client, method)(url), 401)
    assert cache.get("birthdays:probe") == 1
