from django.urls import path

from cards.api.views import PrepSettingsView

urlpatterns = [
    path(
        "workspaces/<uuid:workspace_id>/celebration-prep", PrepSettingsView.as_view(), name="workspace-celebration-prep"
    ),
]
