"""Shared OpenAPI pieces for the workspaces API."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

WORKSPACE_ID = OpenApiParameter(
    "workspace_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The workspace's id. Non-members get 404.",
)

# The "Error" component itself is defined once by birthdaybuddy.api.schema.add_error_responses;
# these responses only add codes that the generic hook does not list (409).
CONFLICT = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Conflicts with the current state (e.g. `last_owner`, `invitation_used`).",
)
NO_CONTENT = OpenApiResponse(description="Done; no content.")

ANY_MEMBER = "Any member of the workspace."
OWNER_OR_ADMIN = "Workspace owner or admin."
OWNER_ONLY = "Workspace owner only."
