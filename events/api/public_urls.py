"""Public token URLs, mounted at the site root (``/rsvp/<token>``, ``/calendar/<token>.ics``)."""

from django.urls import path

from events.api.public import CalendarFeedIcsView, RsvpView

urlpatterns = [
    path("rsvp/<str:token>", RsvpView.as_view(), name="rsvp"),
    path("calendar/<str:token>.ics", CalendarFeedIcsView.as_view(), name="calendar-feed-ics"),
]
