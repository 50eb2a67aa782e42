from django.urls import path

from scheduling.api.views import JobRunViewSet, RunNowView, UpcomingView

urlpatterns = [
    path("workspaces/<uuid:workspace_id>/run-now", RunNowView.as_view(), name="workspace-run-now"),
    path("workspaces/<uuid:workspace_id>/upcoming/", UpcomingView.as_view(), name="workspace-upcoming"),
    path(
        "workspaces/<uuid:workspace_id>/job-runs/",
        JobRunViewSet.as_view({"get": "list"}),
        name="workspace-jobrun-list",
    ),
    path(
        "workspaces/<uuid:workspace_id>/job-runs/<uuid:pk>/",
        JobRunViewSet.as_view({"get": "retrieve"}),
        name="workspace-jobrun-detail",
    ),
]
