from django.urls import path
from rest_framework.routers import SimpleRouter

from gatherings.api.plan_views import CommentViewSet, EventFileViewSet, TaskViewSet
from gatherings.api.views import EventCostsView, ExpenseViewSet, SettlementViewSet

WORKSPACE = "workspaces/<uuid:workspace_id>"

router = SimpleRouter(use_regex_path=False)
router.register(f"{WORKSPACE}/expenses", ExpenseViewSet, basename="workspace-expense")
router.register(f"{WORKSPACE}/settlements", SettlementViewSet, basename="workspace-settlement")
router.register(f"{WORKSPACE}/tasks", TaskViewSet, basename="workspace-task")
router.register(f"{WORKSPACE}/comments", CommentViewSet, basename="workspace-comment")
router.register(f"{WORKSPACE}/files", EventFileViewSet, basename="workspace-file")

urlpatterns = [
    path(f"{WORKSPACE}/events/<uuid:pk>/costs", EventCostsView.as_view(), name="workspace-event-costs"),
    *router.urls,
]
