"""OpenAPI pieces of the workspace-scoped API: the workspace id, who may call (generic responses:
``birthdaybuddy.api.schema``)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

WORKSPACE_ID = OpenApiParameter(
    "workspace_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The workspace's id. Non-members get 404.",
)

ANY_MEMBER = "Any member of the workspace."
OWNER_OR_ADMIN = "Workspace owner or admin."
OWNER_ONLY = "Workspace owner only."
