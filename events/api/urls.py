from rest_framework.routers import SimpleRouter

from events.api.views import CalendarFeedViewSet, EventViewSet

WORKSPACE = "workspaces/<uuid:workspace_id>"

# Path converters (not regexes): a non-UUID id never reaches a view, it is a plain 404.
router = SimpleRouter(use_regex_path=False)
router.register(f"{WORKSPACE}/events", EventViewSet, basename="workspace-event")
router.register(f"{WORKSPACE}/calendar-feeds", CalendarFeedViewSet, basename="workspace-calendar-feed")

urlpatterns = router.urls
