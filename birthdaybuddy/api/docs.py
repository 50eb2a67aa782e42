"""The API docs pages: Swagger UI and ReDoc from drf-spectacular-sidecar's pinned copies.

Both templates load only files of this service (no CDN, no Google Fonts) and contain no
inline script or style, so they work offline and under a strict Content-Security-Policy.
"""

from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "api_docs/swagger_ui.html"
    title = "BirthdayBuddy API"


class RedocView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"
    title = "BirthdayBuddy API"
