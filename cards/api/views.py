from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.response import Response

from cards import services
from cards.api.serializers import PrepSettingsInputSerializer, PrepSettingsSerializer
from cards.models import PrepSettings
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import ANY_MEMBER, OWNER_OR_ADMIN, WORKSPACE_ID

RULES = (
    "On each day's digest the workspace's chosen members get an alert for every celebration announced "
    "`alert_days` later (after weekend and holiday shifts), never the celebrated person; with `group_card` "
    "the alert links to a page (Slack: a button) where they add wishes until the day, delivered together on "
    "the day. `group_card` needs `alert_days` ≥ 1 (400 naming the field); `chosen` must be members' people "
    "of this workspace (400 naming the unknown ids)."
)


@extend_schema_view(
    get=extend_schema(
        summary="Get the advance alert and group card settings",
        description=f"{ANY_MEMBER}\n\n{RULES}",
        responses={200: PrepSettingsSerializer},
    ),
    patch=extend_schema(
        summary="Change the advance alert and group card settings",
        description=f"{OWNER_OR_ADMIN}\n\n{RULES}",
        request=PrepSettingsInputSerializer,
        responses={200: PrepSettingsSerializer},
    ),
)
@extend_schema(tags=["celebration prep"], parameters=[WORKSPACE_ID])
class PrepSettingsView(WorkspaceScopedMixin, generics.GenericAPIView):
    queryset = PrepSettings.objects.all()
    serializer_class = PrepSettingsSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get(self, request, *args, **kwargs):
        return Response(PrepSettingsSerializer(services.prep_settings_of(self.workspace)).data)

    def patch(self, request, *args, **kwargs):
        payload = PrepSettingsInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        settings = services.prep_settings_update(workspace=self.workspace, data=payload.validated_data)
        return Response(PrepSettingsSerializer(settings).data)
