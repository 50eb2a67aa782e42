"""The OpenAPI description of the birthdays endpoint and the staff tools: documented, warning-free."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

PATHS = (
    "/api/v1/workspaces/{workspace_id}/birthdays/",
    "/api/v1/admin/sync-birthdays",
    "/api/v1/admin/cache",
    "/api/v1/admin/cache/{namespace}",
)


@pytest.fixture(scope="module")
def schema_and_problems():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "birthday" in message.lower() or "admin_tools" in message or "/admin/" in message
    ]
    GENERATOR_STATS.reset()
    return schema, problems


def test_no_generator_warnings(schema_and_problems):
    _, problems = schema_and_problems
    assert problems == []


@pytest.mark.parametrize("path", PATHS)
def test_every_operation_has_a_summary_and_its_permissions(schema_and_problems, path):
    schema, _ = schema_and_problems
    operations = schema["paths"][path]
    assert operations
    for operation in operations.values():
        assert operation["summary"]
        assert "**Permissions:**" in operation["description"]


def test_birthdays_parameters_are_documented(schema_and_problems):
    schema, _ = schema_and_problems
    operation = schema["paths"]["/api/v1/workspaces/{workspace_id}/birthdays/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"workspace_id", "days", "month", "kind", "page", "page_size"} <= set(parameters)
    assert parameters["days"]["schema"]["maximum"] == 366
    assert parameters["days"]["schema"]["minimum"] == 1
    assert parameters["month"]["schema"]["maximum"] == 12
    assert parameters["kind"]["schema"]["enum"] == ["birthday", "anniversary"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("PaginatedBirthdayList")
