"""The OpenAPI description of the events endpoints: no generator warnings, permissions on every operation."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

EVENT_PATHS = (
    "/api/v1/workspaces/{workspace_id}/events",
    "/api/v1/workspaces/{workspace_id}/calendar-feeds",
    "/rsvp/",
    "/calendar/",
)


@pytest.fixture(scope="module")
def schema_and_problems():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, problems


def operations(schema):
    for path, item in schema["paths"].items():
        if path.startswith(EVENT_PATHS):
            for method, operation in item.items():
                if method in {"get", "post", "patch", "delete"}:
                    yield path, method, operation


def test_no_generator_warnings(schema_and_problems):
    _, problems = schema_and_problems
    assert [p for p in problems if "event" in p.lower() or "rsvp" in p.lower() or "calendar" in p.lower()] == []


def test_every_operation_states_its_permissions(schema_and_problems):
    schema, _ = schema_and_problems
    found = list(operations(schema))
    assert len(found) >= 10
    for path, method, operation in found:
        assert "**Permissions:**" in operation.get("description", ""), (method, path)


def test_the_public_endpoints_need_no_authentication(schema_and_problems):
    schema, _ = schema_and_problems
    for path in ("/rsvp/{token}", "/calendar/{token}.ics"):
        for operation in schema["paths"][path].values():
            assert operation["security"] == [{}]
    assert "text/calendar" in schema["paths"]["/calendar/{token}.ics"]["get"]["responses"]["200"]["content"]
