"""Public token URLs, mounted at the site root: ``/calendar/<token>.ics``.

``/rsvp/<token>`` is served by ``pages.rsvp`` (the page for browsers, this app's ``RsvpView``
for API clients).
"""

from django.urls import path

from events.api.public import CalendarFeedIcsView

urlpatterns = [
    path("calendar/<str:token>.ics", CalendarFeedIcsView.as_view(), name="calendar-feed-ics"),
]
