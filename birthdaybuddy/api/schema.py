"""drf-spectacular: the error responses every operation can give (post-processing), a DELETE body.

drf-spectacular documents only success responses by default; clients (and schemathesis'
conformance checks) need the 4xx shapes too. All errors share one ``Error`` component, also
the 414 and 500 that gunicorn answers itself (``birthdaybuddy/gunicorn_conf.py``).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

# The "Error" component itself is defined once by add_error_responses (below);
# these responses only add codes that the generic hook does not list (409).
CONFLICT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Conflicts with the current state (e.g. `last_owner`, `invitation_used`).",
)
NO_CONTENT = OpenApiResponse(description="Done; no content.")


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "A stable machine-readable code."},
        "errors": {
            "type": "object",
            "description": "Validation errors: a list of messages per field.",
            "additionalProperties": True,
        },
        "retry_after": {"type": "integer", "description": "Seconds to wait (429 only)."},
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each problem.",
    "401": "Missing, invalid or expired credentials.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "Not found (or not visible to you).",
    "405": "Method not allowed.",
    "409": "Conflicts with the current state.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "414": "Request line (path and query) too long; answered by the server in front of the application.",
    "429": "Too many requests; see `Retry-After`.",
    "500": "The server could not finish the request (e.g. it took too long); nothing a client sends causes it.",
}


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            public_op = operation.get("security") in ([], [{}]) or {} in operation.get("security", [])
            codes = ["400", "404", "405", "413", "414", "415", "429", "500"]
            if not public_op:
                codes += ["401", "403"]
            else:
                codes += ["401"]  # a bad bearer token is refused even where none is needed
            for code in codes:
                responses.setdefault(
                    code,
                    {"description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": ref}}},
                )
    return result


def nullable_references(result, generator, request, public):
    """Makes nullable references nullable in OpenAPI 3.0.3's own terms.

    drf-spectacular writes a nullable nested serializer or enum as ``allOf``/``oneOf`` of a
    ``$ref`` with ``nullable: true`` beside it, but OAS 3.0.3 says ``nullable`` takes effect
    only next to an explicit ``type``, so validators ignore it and a real ``null`` (a member's
    ``rsvp_counts``, the system's audit ``actor``) fails the schema. Each such property becomes
    ``oneOf: [the $ref, {type: <the referenced type>, nullable: true, enum: [null]}]``.
    """
    schemas = result.get("components", {}).get("schemas", {})

    def fix(node):
        if isinstance(node, dict):
            combined = node.get("allOf") or node.get("oneOf")
            if node.get("nullable") and "type" not in node and combined and len(combined) == 1:
                reference = combined[0].get("$ref", "")
                target = schemas.get(reference.rsplit("/", 1)[-1], {})
                node.pop("allOf", None)
                node.pop("nullable")
                node["oneOf"] = [
                    combined[0],
                    {"type": target.get("type", "object"), "nullable": True, "enum": [None]},
                ]
            for value in node.values():
                fix(value)
        elif isinstance(node, list):
            for value in node:
                fix(value)

    fix(result)
    return result


class BodyOnDeleteSchema(AutoSchema):
    """Documents the JSON body of a DELETE (drf-spectacular only documents PUT/PATCH/POST bodies)."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


def with_schema_class(schema_class):
    """Makes a later ``@extend_schema`` on this view method build on ``schema_class``."""

    def decorator(view_method):
        view_method.kwargs = {"schema": schema_class}
        return view_method

    return decorator
