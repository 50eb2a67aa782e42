from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications.api.audit import AuditEntryReplayViewSet
from notifications.api.hooks import (
    TwilioChannelInboundHookView,
    TwilioChannelStatusHookView,
    TwilioInboundHookView,
    TwilioStatusHookView,
)
from notifications.api.stats import NotificationStatsView
from notifications.api.views import ChannelConfigViewSet, NotificationViewSet, TemplateViewSet

WORKSPACE = "workspaces/<uuid:workspace_id>"

router = SimpleRouter(use_regex_path=False)
router.register(f"{WORKSPACE}/channels", ChannelConfigViewSet, basename="channel")
router.register(f"{WORKSPACE}/templates", TemplateViewSet, basename="template")
router.register(f"{WORKSPACE}/notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path(
        f"{WORKSPACE}/channels/<uuid:pk>/test",
        ChannelConfigViewSet.as_view({"post": "send_test"}),
        name="channel-test",
    ),
    path(
        f"{WORKSPACE}/templates/preview",
        TemplateViewSet.as_view({"post": "preview"}),
        name="template-preview",
    ),
    path(f"{WORKSPACE}/notifications/stats", NotificationStatsView.as_view(), name="notification-stats"),
    path("hooks/twilio/status", TwilioStatusHookView.as_view(), name="twilio-status-hook"),
    path("hooks/twilio/inbound", TwilioInboundHookView.as_view(), name="twilio-inbound-hook"),
    path(
        "hooks/twilio/channels/<uuid:channel_id>/status",
        TwilioChannelStatusHookView.as_view(),
        name="twilio-channel-status-hook",
    ),
    path(
        "hooks/twilio/channels/<uuid:channel_id>/inbound",
        TwilioChannelInboundHookView.as_view(),
        name="twilio-channel-inbound-hook",
    ),
    path(
        f"{WORKSPACE}/notifications/<uuid:pk>/resend",
        NotificationViewSet.as_view({"post": "resend"}),
        name="notification-resend",
    ),
    path(
        f"{WORKSPACE}/audit/<int:pk>/replay",
        AuditEntryReplayViewSet.as_view({"post": "replay"}),
        name="workspace-audit-replay",
    ),
    *router.urls,
]
