from django.urls import path
from rest_framework.routers import SimpleRouter

from workspaces.api.views import (
    InvitationAcceptView,
    InvitationViewSet,
    MemberViewSet,
    PersonViewSet,
    TimezoneListView,
    WorkspaceViewSet,
)

# Path converters (not regexes): a non-UUID id never reaches a view, it is a plain 404.
router = SimpleRouter(use_regex_path=False)
router.register("workspaces", WorkspaceViewSet, basename="workspace")
router.register("workspaces/<uuid:workspace_id>/members", MemberViewSet, basename="workspace-member")
router.register("workspaces/<uuid:workspace_id>/invitations", InvitationViewSet, basename="workspace-invitation")
router.register("workspaces/<uuid:workspace_id>/people", PersonViewSet, basename="workspace-person")

urlpatterns = [
    path("invitations/accept", InvitationAcceptView.as_view(), name="invitation-accept"),
    path("timezones", TimezoneListView.as_view(), name="timezones"),
    *router.urls,
]
