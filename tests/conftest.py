import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tokens import RefreshToken
from tests.brokers import celery_broker
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role


@pytest.fixture(autouse=True)
def _in_memory_broker():
    """Tasks queued by any test stay in process memory: nothing reaches a shared broker
    (tests that start a real worker switch to a broker of their own)."""
    with celery_broker("memory://"):
        yield


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle counters and cached reads must not leak between tests."""
    _clear_cache()
    yield
    _clear_cache()


def _clear_cache():
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")  # only this prefix's keys, not the whole Redis database
    else:
        cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    return client_for(staff_user)


@pytest.fixture
def workspace(db, user):
    """A workspace owned by ``user``."""
    workspace = WorkspaceFactory()
    MembershipFactory(workspace=workspace, user=user, role=Role.OWNER)
    return workspace


@pytest.fixture
def member(workspace):
    """A plain member of ``workspace``."""
    return MembershipFactory(workspace=workspace, role=Role.MEMBER).user


@pytest.fixture
def member_client(member) -> APIClient:
    return client_for(member)
