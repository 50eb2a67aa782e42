"""The OpenAPI description of the accounts endpoints: complete, and free of generator warnings."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

ACCOUNT_PATHS = (
    "/api/v1/auth/",
    "/api/v1/users/",
    "/api/v1/users/me",
)
AUDIENCES = ("Public", "Authenticated user.", "Staff only.")


@pytest.fixture(scope="module")
def schema_and_problems():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "accounts" in message or "/users" in message or "/auth/" in message
    ]
    GENERATOR_STATS.reset()
    return schema, problems


def account_operations(schema):
    for path, item in schema["paths"].items():
        if path.startswith(ACCOUNT_PATHS):
            for method, operation in item.items():
                yield path, method, operation


def test_no_generator_warnings_from_accounts(schema_and_problems):
    _, problems = schema_and_problems
    assert problems == []


def test_every_accounts_operation_is_documented(schema_and_problems):
    schema, _ = schema_and_problems
    operations = list(account_operations(schema))
    assert len(operations) == 17
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("tags"), where
        assert operation.get("description", "").startswith(AUDIENCES), where


def test_public_endpoints_need_no_token_and_the_rest_do(schema_and_problems):
    schema, _ = schema_and_problems
    public = {
        "/api/v1/auth/register",
        "/api/v1/auth/verify",
        "/api/v1/auth/verify/resend",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/password/forgot",
        "/api/v1/auth/password/reset",
    }
    for path, method, operation in account_operations(schema):
        needs_token = {"jwtAuth": []} in operation.get("security", [])
        assert needs_token == (path not in public), f"{method.upper()} {path}"


def test_delete_me_documents_its_body_and_the_409(schema_and_problems):
    schema, _ = schema_and_problems
    operation = schema["paths"]["/api/v1/users/me"]["delete"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/AccountDeleteRequest"}
    assert operation["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LastOwnerError"
    }


def test_register_contract_field_names(schema_and_problems):
    schema, _ = schema_and_problems
    register = schema["components"]["schemas"]["RegisterRequest"]
    assert set(register["properties"]) == {"email", "password", "first_name", "last_name", "date_of_birth", "timezone"}
    assert set(register["required"]) == {"email", "password", "first_name", "last_name"}
    assert set(schema["components"]["schemas"]["TokenPair"]["properties"]) == {"access", "refresh"}
