"""The workspace's Slack app in the API: status, the "Add to Slack" link, asking members for
their dates, a directory sync now. Owners and admins only."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from slackapp import install, onboarding, tasks
from slackapp.models import SlackInstallation
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.models import ADMIN_ROLES, Consent, Person

WORKSPACE_ID = OpenApiParameter("workspace_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


class SlackStatusSerializer(serializers.Serializer):
    installed = serializers.BooleanField()
    active = serializers.BooleanField()
    team_id = serializers.CharField(allow_blank=True)
    team_name = serializers.CharField(allow_blank=True)
    channel_id = serializers.CharField(allow_blank=True)
    channel_name = serializers.CharField(allow_blank=True)
    installed_at = serializers.DateTimeField(allow_null=True)
    last_directory_sync_at = serializers.DateTimeField(allow_null=True)
    consent = serializers.DictField(child=serializers.IntegerField(), help_text="People per consent state.")


class InstallUrlSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class OnboardingResultSerializer(serializers.Serializer):
    asked = serializers.IntegerField(help_text="Members without dates newly asked (DMs follow, outside quiet hours).")


class QueuedSerializer(serializers.Serializer):
    queued = serializers.BooleanField()


class _SlackView(WorkspaceScopedMixin, generics.GenericAPIView):
    read_roles = ADMIN_ROLES
    write_roles = ADMIN_ROLES
    queryset = SlackInstallation.objects.none()  # for schema introspection only
    pagination_class = None

    def installation(self) -> SlackInstallation | None:
        return SlackInstallation.objects.select_related("workspace").filter(workspace=self.workspace).first()


@extend_schema(tags=["slack"], parameters=[WORKSPACE_ID])
class SlackStatusView(_SlackView):
    serializer_class = SlackStatusSerializer

    @extend_schema(
        summary="The Slack app in this workspace",
        description="Whether the Slack app is installed, for which Slack team and channel, and how many people "
        "are in each consent state. **Permissions:** workspace owner or admin.",
    )
    def get(self, request, *args, **kwargs):
        installation = self.installation()
        counts = dict.fromkeys(Consent.values, 0)
        for consent in Person.objects.for_workspace(self.workspace).values_list("consent", flat=True):
            counts[consent] += 1
        body = {
            "installed": installation is not None,
            "active": bool(installation and installation.active),
            "team_id": installation.team_id if installation else "",
            "team_name": installation.team_name if installation else "",
            "channel_id": installation.channel_id if installation else "",
            "channel_name": installation.channel_name if installation else "",
            "installed_at": installation.installed_at if installation else None,
            "last_directory_sync_at": installation.last_directory_sync_at if installation else None,
            "consent": counts,
        }
        return Response(SlackStatusSerializer(body).data)


@extend_schema(tags=["slack"], parameters=[WORKSPACE_ID])
class SlackInstallUrlView(_SlackView):
    serializer_class = InstallUrlSerializer

    @extend_schema(
        summary='An "Add to Slack" link',
        description="A link to Slack's OAuth v2 consent page that installs the app for this workspace. It works "
        "once, for `SLACK_OAUTH_STATE_SECONDS` (default 10 minutes), and only while the caller is still an "
        "admin of the workspace. A Slack team already bound to another workspace is refused at the end. "
        "**Permissions:** workspace owner or admin.",
        request=None,
        responses={201: InstallUrlSerializer},
    )
    def post(self, request, *args, **kwargs):
        url, expires_at = install.install_url_create(workspace=self.workspace, user=request.user)
        return Response(
            InstallUrlSerializer({"url": url, "expires_at": expires_at}).data, status=status.HTTP_201_CREATED
        )


def _active_installation_or_error(view: _SlackView) -> SlackInstallation:
    installation = view.installation()
    if installation is None or not installation.active:
        raise serializers.ValidationError({"slack": ["The Slack app is not installed in this workspace."]})
    return installation


@extend_schema(tags=["slack"], parameters=[WORKSPACE_ID])
class SlackOnboardingView(_SlackView):
    serializer_class = OnboardingResultSerializer

    @extend_schema(
        summary="Ask members without dates",
        description="Every member without a birthday or work start date who was never asked (and never "
        'declined) is asked by Slack DM whether they want to add their dates ("Add my dates" / "No '
        "thanks\"). The DMs go out outside the workspace's quiet hours. Asking twice asks nobody twice. "
        "**Permissions:** workspace owner or admin.",
        request=None,
        responses={200: OnboardingResultSerializer},
    )
    def post(self, request, *args, **kwargs):
        installation = _active_installation_or_error(self)
        asked = onboarding.onboarding_ask(installation)
        if asked:
            tasks.onboarding_send.delay_on_commit(str(installation.pk))
        return Response(OnboardingResultSerializer({"asked": asked}).data)


@extend_schema(tags=["slack"], parameters=[WORKSPACE_ID])
class SlackDirectorySyncView(_SlackView):
    serializer_class = QueuedSerializer

    @extend_schema(
        summary="Sync the Slack directory now",
        description="Matches Slack users to people by email and fills their Slack id, display name and time "
        "zone (also done on install and daily). **Permissions:** workspace owner or admin.",
        request=None,
        responses={202: QueuedSerializer},
    )
    def post(self, request, *args, **kwargs):
        installation = _active_installation_or_error(self)
        tasks.directory_sync.delay_on_commit(str(installation.pk))
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
