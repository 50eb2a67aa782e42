from django.urls import path

from scheduling.api.views import JobRunViewSet, ReminderRunViewSet, RunNowView, UpcomingView

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
    path(
        "workspaces/<uuid:workspace_id>/reminders/<uuid:pk>/send-now",
        ReminderRunViewSet.as_view({"post": "send_now"}),
        name="workspace-reminder-send-now",
    ),
    path(
        "workspaces/<uuid:workspace_id>/reminders/<uuid:pk>/preview",
        ReminderRunViewSet.as_view({"get": "preview"}),
        name="workspace-reminder-preview",
    ),
]
