from django.urls import path

from slackapp.api.views import SlackDirectorySyncView, SlackInstallUrlView, SlackOnboardingView, SlackStatusView

urlpatterns = [
    path("workspaces/<uuid:workspace_id>/slack/", SlackStatusView.as_view(), name="workspace-slack"),
    path(
        "workspaces/<uuid:workspace_id>/slack/install-url",
        SlackInstallUrlView.as_view(),
        name="workspace-slack-install-url",
    ),
    path(
        "workspaces/<uuid:workspace_id>/slack/onboarding",
        SlackOnboardingView.as_view(),
        name="workspace-slack-onboarding",
    ),
    path("workspaces/<uuid:workspace_id>/slack/sync", SlackDirectorySyncView.as_view(), name="workspace-slack-sync"),
]
