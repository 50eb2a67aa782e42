"""Channels, templates and notification history of a workspace.

All three hold secrets or personal data (phone numbers, email addresses, message text),
so every endpoint here is for workspace owners and admins (and staff); members get 403,
non-members 404 (``WorkspaceScopedMixin``).
"""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from notifications import previews, services
from notifications.api.filters import NotificationFilterSet
from notifications.api.serializers import (
    ChannelConfigSerializer,
    ChannelTestRequestSerializer,
    ChannelTestResultSerializer,
    NotificationSerializer,
    TemplatePreviewRequestSerializer,
    TemplatePreviewSerializer,
    TemplateSerializer,
)
from notifications.models import ChannelConfig, Notification, Template
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.models import ADMIN_ROLES

ADMINS = "**Permissions:** workspace owners and admins (and staff). Members get 403, non-members 404."

CHANNEL_TAG = ["channels"]
TEMPLATE_TAG = ["templates"]
NOTIFICATION_TAG = ["notifications"]


class ErrorSerializer(serializers.Serializer):
    """The API's error shape (documented as the shared ``Error`` component)."""

    detail = serializers.CharField()
    code = serializers.CharField()


@extend_schema_view(
    list=extend_schema(
        tags=CHANNEL_TAG,
        summary="List channels",
        description=f"The workspace's channel configs (one per kind). Secrets are shown masked. {ADMINS}",
    ),
    retrieve=extend_schema(tags=CHANNEL_TAG, summary="Get a channel", description=f"Secrets are masked. {ADMINS}"),
    create=extend_schema(
        tags=CHANNEL_TAG,
        summary="Connect a channel",
        description=(
            "Slack: `webhook_url` (must start with an allowed prefix; redirects are never followed) or "
            "`bot_token` + `channel_id`. Email: optional `from_name`, `reply_to` (sent through the platform's "
            "SMTP server). SMS/WhatsApp: `account_sid`, `auth_token` and `from_number` (E.164) or "
            "`messaging_service_sid`; WhatsApp may add `whatsapp_template_sid`. One channel per kind. "
            f"Secrets are stored encrypted and never returned. {ADMINS}"
        ),
    ),
    update=extend_schema(
        tags=CHANNEL_TAG,
        summary="Replace a channel",
        description=f"Omitted secrets keep their value; `kind` cannot change. {ADMINS}",
    ),
    partial_update=extend_schema(
        tags=CHANNEL_TAG,
        summary="Change a channel",
        description=f"Omitted fields (and secrets) keep their value; null or empty clears a secret. {ADMINS}",
    ),
    destroy=extend_schema(tags=CHANNEL_TAG, summary="Remove a channel", description=ADMINS),
)
class ChannelConfigViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    queryset = ChannelConfig.objects.all()
    serializer_class = ChannelConfigSerializer
    read_roles = ADMIN_ROLES
    lookup_value_converter = "uuid"
    ordering_fields = ("kind", "created_at")
    ordering = ("kind",)
    search_fields = ()
    filterset_fields = ("kind", "active")

    def get_serializer_class(self):
        if getattr(self, "action", None) == "send_test":
            return ChannelTestRequestSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        serializer.instance = services.channel_config_create(workspace=self.workspace, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.channel_config_update(config=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.channel_config_delete(config=instance)

    @extend_schema(
        tags=CHANNEL_TAG,
        summary="Send a test message",
        description=(
            "Sends a test message now through the real provider and reports its answer (`ok`, `outcome`, "
            "`status_code`, `detail`). Slack posts to the configured channel; email and SMS/WhatsApp go to "
            "`recipient` (default: your own address or phone). WhatsApp follows the 24-hour session rule: "
            "free-form text if the recipient wrote to the sender in the last 24 hours, else the approved "
            "template, else `whatsapp_session_closed` and nothing is sent. Nothing is stored. 429 if this "
            f"destination just received a message. {ADMINS}"
        ),
        request=ChannelTestRequestSerializer,
        responses={200: ChannelTestResultSerializer},
    )
    def send_test(self, request, *args, **kwargs):
        config = self.get_object()
        serializer = ChannelTestRequestSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        result = services.channel_config_send_test(
            config=config, recipient=serializer.validated_data.get("recipient") or None, user=request.user
        )
        return Response(ChannelTestResultSerializer(asdict(result)).data)


@extend_schema_view(
    list=extend_schema(
        tags=TEMPLATE_TAG,
        summary="List template overrides",
        description=(
            "The workspace's overrides of the shipped message templates (per reminder kind and channel), each "
            "one variant: a kind and channel may have several (told apart by `label`), which together replace "
            "the shipped variants. Each message uses one, chosen from its idempotency key (SHA-256 modulo the "
            "number of variants, in the order they were created), so a retry or rerun never changes its text. "
            f"Kinds without an override use the shipped variants. {ADMINS}"
        ),
    ),
    retrieve=extend_schema(tags=TEMPLATE_TAG, summary="Get a template override", description=ADMINS),
    create=extend_schema(
        tags=TEMPLATE_TAG,
        summary="Override a template",
        description=(
            "`body` (and `subject`, email only) are Jinja templates rendered in a sandbox with plain data: "
            "`workspace.name`, `date`, `date_display`, `birthdays` / `anniversaries` (each `name`, `mention`, "
            "`age` or `years`), `person` (personal greetings: `name`, `mention`, `age` or `years`), `event`, "
            "`message`. A template that does not compile or fails on sample data is rejected with 400, naming "
            "the line. Several variants of one kind and channel need distinct `label`s; `image_url` (optional, "
            f"https only) adds a picture on Slack and email. {ADMINS}"
        ),
    ),
    update=extend_schema(tags=TEMPLATE_TAG, summary="Replace a template override", description=ADMINS),
    partial_update=extend_schema(tags=TEMPLATE_TAG, summary="Change a template override", description=ADMINS),
    destroy=extend_schema(
        tags=TEMPLATE_TAG, summary="Remove a template override", description=f"Back to the default. {ADMINS}"
    ),
)
class TemplateViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    queryset = Template.objects.all()
    serializer_class = TemplateSerializer
    read_roles = ADMIN_ROLES
    lookup_value_converter = "uuid"
    ordering_fields = ("reminder_kind", "channel", "created_at")
    ordering = ("reminder_kind", "channel")
    search_fields = ()
    filterset_fields = ("reminder_kind", "channel")

    def get_serializer_class(self):
        if getattr(self, "action", None) == "preview":
            return TemplatePreviewRequestSerializer
        return super().get_serializer_class()

    def perform_create(self, serializer):
        serializer.instance = services.template_create(workspace=self.workspace, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.template_update(template=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.template_delete(template=instance)

    @extend_schema(
        tags=TEMPLATE_TAG,
        summary="Preview a template",
        description=(
            "Renders sample data with `body`/`subject` if a body is given (a draft, not saved), else with every "
            "variant of `reminder_kind` and `channel` the workspace's messages choose among: its own variants "
            "(in creation order), else the shipped ones. `variants` lists each with its label; `subject` and "
            f"`body` are the first one's. {ADMINS}"
        ),
        request=TemplatePreviewRequestSerializer,
        responses={200: TemplatePreviewSerializer},
    )
    def preview(self, request, *args, **kwargs):
        serializer = TemplatePreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preview = previews.template_preview(workspace=self.workspace, **serializer.validated_data)
        body = {"subject": preview.subject, "body": preview.body, "variants": [asdict(v) for v in preview.variants]}
        return Response(TemplatePreviewSerializer(body).data)


@extend_schema_view(
    list=extend_schema(
        tags=NOTIFICATION_TAG,
        summary="Notification history",
        description=(
            "Every message sent (or tried) for this workspace, newest first, each with its delivery attempts. "
            "Filters: `status`, `channel` (repeatable), `date_from`/`date_to` (local dates, inclusive), "
            f"`person`, `reminder`. {ADMINS}"
        ),
    ),
    retrieve=extend_schema(tags=NOTIFICATION_TAG, summary="Get a notification", description=ADMINS),
)
class NotificationViewSet(
    WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    read_roles = ADMIN_ROLES
    lookup_value_converter = "uuid"
    ordering_fields = ("created_at", "sent_at", "status")
    ordering = ("-created_at",)
    search_fields = ()

    def get_scoped_queryset(self):
        queryset = Notification.objects.visible_to(self.request.user)
        return queryset.select_related("person").prefetch_related("delivery_attempts")

    @extend_schema(
        tags=NOTIFICATION_TAG,
        summary="Resend a notification",
        description=(
            "Only `failed` or `unknown` notifications: creates a new notification (idempotency key "
            "`resend:<id>:<n>`, linked by `resent_from`) and queues it. 409 for any other status or while an "
            f"earlier resend is pending, sending or sent. {ADMINS}"
        ),
        request=None,
        responses={201: NotificationSerializer, 409: ErrorSerializer},
    )
    def resend(self, request, *args, **kwargs):
        notification = self.get_object()
        resent = services.notification_resend(notification=notification, actor=request.user)
        resent = self.get_scoped_queryset().get(pk=resent.pk)
        return Response(NotificationSerializer(resent).data, status=status.HTTP_201_CREATED)
