from django.urls import path
from rest_framework.routers import SimpleRouter

from workspaces.api.account import AccountExportView, AccountView
from workspaces.api.admin_tools import CacheNamespaceView, CacheView, SyncBirthdaysView
from workspaces.api.audit import AuditEntryViewSet
from workspaces.api.birthdays import BirthdayViewSet
from workspaces.api.people_import import PersonImportView
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
router.register("workspaces/<uuid:workspace_id>/birthdays", BirthdayViewSet, basename="workspace-birthday")
router.register("workspaces/<uuid:workspace_id>/audit", AuditEntryViewSet, basename="workspace-audit")

urlpatterns = [
    path("users/me", AccountView.as_view(), name="users-me"),
    path("users/me/export", AccountExportView.as_view(), name="users-me-export"),
    path("invitations/accept", InvitationAcceptView.as_view(), name="invitation-accept"),
    path("timezones", TimezoneListView.as_view(), name="timezones"),
    # No trailing slash: BodySizeLimitMiddleware allows larger bodies on paths ending in /import.
    path("workspaces/<uuid:workspace_id>/people/import", PersonImportView.as_view(), name="workspace-person-import"),
    # Platform staff tools.
    path("admin/sync-birthdays", SyncBirthdaysView.as_view(), name="admin-sync-birthdays"),
    path("admin/cache", CacheView.as_view(), name="admin-cache"),
    path("admin/cache/<str:namespace>", CacheNamespaceView.as_view(), name="admin-cache-namespace"),
    *router.urls,
]
