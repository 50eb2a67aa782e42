from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

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
    path("openapi.json", SpectacularAPIView.as_view(), name="openapi-json"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("pages.urls")),  # /rsvp/<token> (HTML or JSON), account links, preferences
    path("", include("events.api.public_urls")),  # /calendar/<token>.ics
    path("health/", include("birthdaybuddy.health")),
    path("admin/", admin.site.urls),
]

handler400 = "birthdaybuddy.api.exceptions.handler400"
handler403 = "birthdaybuddy.api.exceptions.handler403"
handler404 = "birthdaybuddy.api.exceptions.handler404"
handler500 = "birthdaybuddy.api.exceptions.handler500"
