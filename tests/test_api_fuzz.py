"""Property-based fuzzing of the whole API against its own OpenAPI schema (schemathesis).

Every operation is called with generated input, anonymously and as the owner of a real
workspace (workspace ids in paths are pointed at it, so scoped routes are exercised,
not just 404'd). Checks: no 5xx, every response matches the documented schema, and an
operation that declares authentication refuses requests without it or with a bad token.
Bounded and derandomized so CI is reproducible and quick.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from accounts.tokens import AccessToken
from birthdaybuddy.wsgi import application
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

FUZZ_SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# Checks that must hold for every response. Status-code conformance is included: every
# operation documents its error responses (birthdaybuddy.api.schema).
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    # An operation that declares the bearer token must refuse a request without it or with a bad one.
    schemathesis.checks.ignored_auth,
]


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The raw WSGI app closes DB connections around each request (as in production); the
    test's transaction lives on that connection, so keep it open as Django's test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(db):
    user = UserFactory()
    workspace = WorkspaceFactory()
    MembershipFactory(workspace=workspace, user=user, role=Role.OWNER)
    PersonFactory(workspace=workspace)
    return str(AccessToken.for_user(user)), workspace


def _reset_throttles():
    # Throttling is tested on its own; here it would only turn most calls into 429s.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*throttle*")
    else:
        cache.clear()


@schema.parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_api_anonymous(case):
    _reset_throttles()
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_authenticated(case, owner_token):
    token, workspace = owner_token
    if "workspace_id" in (case.path_parameters or {}):
        case.path_parameters["workspace_id"] = str(workspace.id)
    _reset_throttles()
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
