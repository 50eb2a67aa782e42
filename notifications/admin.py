from functools import partial

from django import forms
from django.contrib import admin, messages
from django.urls import path
from django.utils.html import format_html

from birthdaybuddy.errors import ApplicationError
from notifications import services
from notifications.admin_dashboard import dashboard_view
from notifications.api.serializers import mask_secret, mask_webhook_url
from notifications.models import (
    ChannelConfig,
    DeliveryAttempt,
    InboundContact,
    Notification,
    NotificationStatus,
    Template,
)
from workspaces.audit import ADMIN_ORIGIN

SECRET_FIELDS = ("webhook_url", "bot_token", "auth_token")


class ChannelConfigForm(forms.ModelForm):
    """Secrets are write-only: the inputs start empty, and an empty input keeps the stored value."""

    clear_secrets = forms.BooleanField(required=False, help_text="Remove the stored secrets of this channel.")

    class Meta:
        model = ChannelConfig
        fields = (
            "workspace",
            "kind",
            "active",
            "rate_per_second",
            "webhook_url",
            "bot_token",
            "channel_id",
            "from_name",
            "reply_to",
            "account_sid",
            "auth_token",
            "from_number",
            "messaging_service_sid",
            "whatsapp_template_sid",
        )
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            field = self.fields[name]
            field.required = False
            field.help_text = "Write-only. Leave empty to keep the stored value."
            self.initial[name] = ""

    def clean(self):
        cleaned = super().clean()
        stored = self.instance if self.instance.pk else None
        for name in SECRET_FIELDS:
            if self.cleaned_data.get("clear_secrets"):
                cleaned[name] = None
            elif not cleaned.get(name) and stored is not None:
                cleaned[name] = getattr(stored, name)
            setattr(self.instance, name, cleaned.get(name) or None)
        return cleaned


@admin.register(ChannelConfig)
class ChannelConfigAdmin(admin.ModelAdmin):
    form = ChannelConfigForm
    list_display = ("workspace", "kind", "active", "destination", "secret_masked", "updated_at")
    list_filter = ("kind", "active")
    search_fields = ("workspace__name", "workspace__slug", "channel_id", "from_number")
    list_select_related = ("workspace",)
    autocomplete_fields = ()
    raw_id_fields = ("workspace",)
    readonly_fields = ("webhook_url_masked", "bot_token_masked", "auth_token_masked", "created_at", "updated_at")
    actions = ("send_test_message",)
    fieldsets = (
        (None, {"fields": ("workspace", "kind", "active", "rate_per_second")}),
        ("Slack", {"fields": ("webhook_url", "webhook_url_masked", "bot_token", "bot_token_masked", "channel_id")}),
        ("Email", {"fields": ("from_name", "reply_to")}),
        (
            "Twilio SMS / WhatsApp",
            {
                "fields": (
                    "account_sid",
                    "auth_token",
                    "auth_token_masked",
                    "from_number",
                    "messaging_service_sid",
                    "whatsapp_template_sid",
                )
            },
        ),
        ("Secrets", {"fields": ("clear_secrets",)}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    @admin.display(description="Webhook URL")
    def webhook_url_masked(self, obj):
        return mask_webhook_url(obj.webhook_url) or "—"

    @admin.display(description="Bot token")
    def bot_token_masked(self, obj):
        return mask_secret(obj.bot_token) or "—"

    @admin.display(description="Auth token")
    def auth_token_masked(self, obj):
        return mask_secret(obj.auth_token) or "—"

    @admin.display(description="Secret")
    def secret_masked(self, obj):
        return mask_webhook_url(obj.webhook_url) or mask_secret(obj.bot_token or obj.auth_token) or "—"

    @admin.display(description="Destination")
    def destination(self, obj):
        return obj.channel_id or obj.from_number or obj.messaging_service_sid or obj.from_name or "—"

    @admin.action(description="Send a test message (Slack: its channel; email/SMS: your address or phone)")
    def send_test_message(self, request, queryset):
        for config in queryset.select_related("workspace"):
            _report_test(self, request, config, recipient=None)


def _report_test(model_admin, request, config, *, recipient):
    try:
        result = services.channel_config_send_test(
            config=config, recipient=recipient, user=request.user, origin=ADMIN_ORIGIN
        )
    except ApplicationError as exc:
        model_admin.message_user(request, f"{config}: {exc.message}", messages.WARNING)
        return
    except Exception as exc:  # a validation error about the recipient, shown rather than a 500
        model_admin.message_user(request, f"{config}: {exc}", messages.ERROR)
        return
    level = messages.SUCCESS if result.ok else messages.ERROR
    model_admin.message_user(
        request,
        f"{config}: {result.outcome} via {result.provider} to {result.recipient} "
        f"(status {result.status_code}) {result.detail}",
        level,
    )


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("workspace", "reminder_kind", "channel", "updated_at")
    list_filter = ("reminder_kind", "channel")
    search_fields = ("workspace__name", "workspace__slug", "body")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace",)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "finished_at", "outcome", "status_code", "error", "provider_message_id")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "short_id",
        "workspace",
        "channel",
        "recipient",
        "status_badge",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "workspace")
    search_fields = ("recipient", "idempotency_key", "=id")
    list_select_related = ("workspace",)
    raw_id_fields = ("workspace", "reminder", "person", "resent_from")
    readonly_fields = (
        "id",
        "workspace",
        "reminder",
        "person",
        "channel",
        "recipient",
        "subject",
        "body",
        "occurrence_date",
        "status",
        "attempts",
        "last_error",
        "provider_message_id",
        "idempotency_key",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "sent_at",
        "delivered_at",
        "resent_from",
        "retried_after_unknown",
    )
    exclude = ("rate_reserved",)
    inlines = (DeliveryAttemptInline,)
    actions = ("resend", "send_test_message")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        dashboard = self.admin_site.admin_view(partial(dashboard_view, model_admin=self))
        return [path("dashboard/", dashboard, name="notifications_dashboard"), *super().get_urls()]

    @admin.display(description="Id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        colours = {"sent": "green", "delivered": "green", "failed": "red", "unknown": "orange"}
        return format_html('<b style="color:{}">{}</b>', colours.get(obj.status, "inherit"), obj.get_status_display())

    @admin.action(description="Resend (failed or unknown only)")
    def resend(self, request, queryset):
        done, refused = 0, []
        for notification in queryset:
            if notification.status not in (NotificationStatus.FAILED, NotificationStatus.UNKNOWN):
                refused.append(f"{str(notification.pk)[:8]} is {notification.status}")
                continue
            try:
                services.notification_resend(notification=notification, actor=request.user, origin=ADMIN_ORIGIN)
                done += 1
            except ApplicationError as exc:
                refused.append(f"{str(notification.pk)[:8]}: {exc.message}")
        if done:
            self.message_user(request, f"Queued {done} resend(s).", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not resent: " + "; ".join(refused[:20]), messages.WARNING)

    @admin.action(description="Send a test message to this notification's destination")
    def send_test_message(self, request, queryset):
        for notification in queryset.select_related("workspace")[:10]:
            config = ChannelConfig.objects.filter(workspace=notification.workspace, kind=notification.channel).first()
            if config is None:
                self.message_user(request, f"{notification}: the workspace has no {notification.channel} channel.")
                continue
            recipient = None if notification.channel == "slack" else notification.recipient
            _report_test(self, request, config, recipient=recipient)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("notification", "number", "outcome", "status_code", "started_at", "finished_at")
    list_filter = ("outcome",)
    search_fields = ("=notification__id", "error")
    raw_id_fields = ("notification",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InboundContact)
class InboundContactAdmin(admin.ModelAdmin):
    """Who last wrote to which of our numbers (WhatsApp session windows, STOP/START history); read-only."""

    list_display = ("phone", "channel", "to_number", "last_inbound_at", "last_keyword", "account_sid")
    list_filter = ("channel", "last_keyword")
    search_fields = ("=phone", "=to_number")
    date_hierarchy = "last_inbound_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
