from rest_framework.routers import SimpleRouter

from reminders.api.views import ReminderViewSet

router = SimpleRouter(use_regex_path=False)
router.register("workspaces/<uuid:workspace_id>/reminders", ReminderViewSet, basename="workspace-reminder")

urlpatterns = router.urls
