from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularJSONAPIView

from birthdaybuddy.api.docs import RedocView, SwaggerView

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("workspaces.api.urls")),
    path("", include("scheduling.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("reminders.api.urls")),
    path("", include("events.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-json"),
    # The split view serves its start-up script as a file: the page needs no inline script (CSP).
    path("api/docs/", SwaggerView.as_view(url_name="openapi-json"), name="swagger-ui"),
    path("docs", SwaggerView.as_view(url_name="openapi-json"), name="docs"),
    path("api/redoc/", RedocView.as_view(url_name="openapi-json"), name="redoc"),
    path("", include("pages.urls")),  # /rsvp/<token> (HTML or JSON), account links, preferences
    path("", include("events.api.public_urls")),  # /calendar/<token>.ics
    path("health/", include("birthdaybuddy.health")),
    path("admin/", admin.site.urls),
]

handler400 = "birthdaybuddy.api.exceptions.handler400"
handler403 = "birthdaybuddy.api.exceptions.handler403"
handler404 = "birthdaybuddy.api.exceptions.handler404"
handler500 = "birthdaybuddy.api.exceptions.handler500"
