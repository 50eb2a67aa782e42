from django.urls import path
from rest_framework.routers import SimpleRouter

from events.api.feed_views import CalendarFeedViewSet
from events.api.views import EventViewSet

WORKSPACE = "workspaces/<uuid:workspace_id>"

# Path converters (not regexes): a non-UUID id never reaches a view, it is a plain 404.
router = SimpleRouter(use_regex_path=False)
router.register(f"{WORKSPACE}/events", EventViewSet, basename="workspace-event")
router.register(f"{WORKSPACE}/calendar-feeds", CalendarFeedViewSet, basename="workspace-calendar-feed")

urlpatterns = [
    path(
        f"{WORKSPACE}/events/<uuid:pk>/attendees/<uuid:person_id>/resend-invitation",
        EventViewSet.as_view({"post": "resend_invitation"}),
        name="workspace-event-resend-invitation",
    ),
    path(
        f"{WORKSPACE}/events/<uuid:pk>/attendees/<uuid:person_id>/check-in",
        EventViewSet.as_view({"post": "check_in", "delete": "check_out"}),
        name="workspace-event-check-in",
    ),
    path(
        f"{WORKSPACE}/events/<uuid:pk>/guests.csv",
        EventViewSet.as_view({"get": "guests_csv"}),
        name="workspace-event-guests-csv",
    ),
    path(
        f"{WORKSPACE}/events/<uuid:pk>/poll",
        EventViewSet.as_view({"get": "poll", "post": "poll_open"}),
        name="workspace-event-poll",
    ),
    path(
        f"{WORKSPACE}/events/<uuid:pk>/poll/votes",
        EventViewSet.as_view({"post": "poll_vote"}),
        name="workspace-event-poll-votes",
    ),
    path(
        f"{WORKSPACE}/events/<uuid:pk>/poll/fix",
        EventViewSet.as_view({"post": "poll_fix"}),
        name="workspace-event-poll-fix",
    ),
    path(
        f"{WORKSPACE}/events/<uuid:pk>/guest-messages",
        EventViewSet.as_view({"post": "guest_message"}),
        name="workspace-event-guest-messages",
    ),
    *router.urls,
]
