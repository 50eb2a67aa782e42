from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularJSONAPIView

from birthdaybuddy.api.docs import RedocView, SwaggerView

# Swagger UI and ReDoc style their pages with inline styles, and ReDoc renders in a blob:
# worker; their scripts are files served from here (the split view serves Swagger UI's
# start-up script as a file too), so script-src stays 'self' without inline script.
docs_csp = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"], "img-src": ["data:"]})
swagger_ui = docs_csp(SwaggerView.as_view(url_name="openapi-json"))

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("workspaces.api.urls")),
    path("", include("scheduling.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("reminders.api.urls")),
    path("", include("events.api.urls")),
    path("", include("slackapp.api.urls")),
    path("", include("gatherings.api.urls")),
    path("", include("cards.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-json"),
    path("api/docs/", swagger_ui, name="swagger-ui"),
    path("docs", swagger_ui, name="docs"),
    path("api/redoc/", docs_csp(RedocView.as_view(url_name="openapi-json")), name="redoc"),
    path("", include("pages.urls")),  # /rsvp/<token> (HTML or JSON), account links, preferences
    path("", include("events.api.public_urls")),  # /calendar/<token>.ics
    path("", include("gatherings.api.public_urls")),  # /gathering-files/<signed token>
    path("health/", include("birthdaybuddy.health")),
    path("slack/", include("slackapp.urls")),  # the Slack app: OAuth redirect, commands, interactivity, events
    path("admin/", admin.site.urls),
]

handler400 = "birthdaybuddy.api.exceptions.handler400"
handler403 = "birthdaybuddy.api.exceptions.handler403"
handler404 = "birthdaybuddy.api.exceptions.handler404"
handler500 = "birthdaybuddy.api.exceptions.handler500"
