import uuid
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html

from audit.names import ADMIN_ORIGIN
from birthdaybuddy.admin_tools import WorkspaceColumns, confirm_action, local_time, report
from birthdaybuddy.errors import ApplicationError
from notifications import (
    admin_audit,  # noqa: F401  (registers the audit log's "Replay")
    services,
)
from notifications.admin_channels import describe_test_result
from notifications.admin_dashboard import dashboard_view, resend_failed_view
from notifications.api.serializers import mask_secret, mask_webhook_url
from notifications.models import (
    ChannelConfig,
    DeliveryAttempt,
    InboundContact,
    Notification,
    NotificationStatus,
    Template,
)

SECRET_FIELDS = ("webhook_url", "bot_token", "auth_token")


KIND_FIELDS = {
    "slack": ("webhook_url", "bot_token", "channel_id"),
    "email": ("from_name", "reply_to"),
    "sms": ("account_sid", "auth_token", "from_number", "messaging_service_sid"),
    "whatsapp": ("account_sid", "auth_token", "from_number", "messaging_service_sid", "whatsapp_template_sid"),
}
KIND_SECTIONS = {"slack": "Slack", "email": "Email", "sms": "Twilio SMS", "whatsapp": "Twilio WhatsApp"}
SECRET_MASKS = {"webhook_url": mask_webhook_url, "bot_token": mask_secret, "auth_token": mask_secret}


class ChannelConfigForm(forms.ModelForm):
    """Secrets are write-only: the inputs start empty, an empty input keeps the stored value, and the
    stored value is shown once, masked, in the field's help. Saved through the channel services, so
    the admin accepts exactly what the API accepts."""

    clear_secrets = forms.BooleanField(required=False, help_text="Remove the stored secrets of this channel.")

    class Meta:
        model = ChannelConfig
        fields = ("workspace", "kind", "active", "rate_per_second", *dict.fromkeys(sum(KIND_FIELDS.values(), ())))
        widgets = {name: forms.PasswordInput(render_value=False) for name in SECRET_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stored = None if self.instance._state.adding else self.instance
        for name in SECRET_FIELDS:
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.required = False
            masked = SECRET_MASKS[name](getattr(stored, name, None)) if stored else ""
            field.help_text = (
                f"Stored: {masked}. Write-only: leave empty to keep it, type a new value to replace it."
                if masked
                else "Write-only: it is never shown again after saving."
            )
            self.initial[name] = ""

    def clean(self):
        cleaned = super().clean()
        if not self.instance._state.adding:
            cleaned["kind"] = self.instance.kind  # a channel's kind cannot change (as in the API)
        for name in SECRET_FIELDS:
            if self.cleaned_data.get("clear_secrets"):
                cleaned[name] = None
            elif not cleaned.get(name) and not self.instance._state.adding:
                cleaned[name] = getattr(self.instance, name)
        return cleaned

    def _post_clean(self):
        """Saves through the channel services (inside the admin's transaction): their validation, the
        API's, decides; what they refuse comes back as the form's field errors and nothing is written."""
        if self.errors:
            return
        data = {name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data}
        data.pop("workspace", None)
        try:
            if not self.instance._state.adding:
                data.pop("kind", None)
                self.instance = services.channel_config_update(config=self.instance, **data)
            else:
                self.instance = services.channel_config_create(workspace=self.cleaned_data["workspace"], **data)
        except ValidationError as exc:
            self._update_errors(exc)

    def save(self, commit=True):
        return self.instance  # saved by ``_post_clean`` through the services

    def save_m2m(self):
        pass


class ChannelTestForm(forms.Form):
    recipient = forms.CharField(
        required=False,
        max_length=254,
        label="Send the test to",
        help_text="An email address for email; a phone number in international format (+49…) for SMS/WhatsApp. "
        "Empty: your own.",
    )


@admin.register(ChannelConfig)
class ChannelConfigAdmin(WorkspaceColumns, admin.ModelAdmin):
    form = ChannelConfigForm
    change_form_template = "admin/notifications/channelconfig/change_form.html"
    list_display = ("__str__", "workspace_name", "kind", "active", "destination", "secret_masked", "updated_at")
    list_filter = ("kind", "active")
    search_fields = ("workspace__name", "workspace__slug", "channel_id", "from_number")
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace",)
    readonly_fields = ("created_at", "updated_at")
    actions = ("send_test_message",)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "workspace", "kind") if obj is not None else self.readonly_fields

    def _kind(self, request, obj) -> str | None:
        if obj is not None:
            return obj.kind
        kind = request.POST.get("kind") or request.GET.get("kind")
        return kind if kind in KIND_FIELDS else None

    def get_fieldsets(self, request, obj=None):
        kind = self._kind(request, obj)
        kinds = [kind] if kind else list(KIND_FIELDS)
        fieldsets = [(None, {"fields": ("workspace", "kind", "active", "rate_per_second")})]
        for name in kinds:
            classes = () if kind else ("bb-kind-fields", f"bb-kind-{name}")
            fieldsets.append((KIND_SECTIONS[name], {"fields": KIND_FIELDS[name], "classes": classes}))
        if obj is not None and any(getattr(obj, name) for name in SECRET_FIELDS if name in KIND_FIELDS[obj.kind]):
            fieldsets.append(("Secrets", {"fields": ("clear_secrets",)}))
        if obj is not None:
            fieldsets.append(("Timestamps", {"fields": ("created_at", "updated_at")}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if kwargs.get("fields") is None:
            kind = self._kind(request, obj)
            names = ["workspace", "kind", "active", "rate_per_second"]
            names += list(KIND_FIELDS[kind]) if kind else list(dict.fromkeys(sum(KIND_FIELDS.values(), ())))
            if obj is not None:
                names += ["clear_secrets"]
            kwargs["fields"] = [n for n in names if n not in self.get_readonly_fields(request, obj)]
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        """The form saved it through the channel services already."""

    def get_urls(self):
        return [
            path(
                "<uuid:pk>/send-test/",
                self.admin_site.admin_view(self.send_test_view),
                name="notifications_channelconfig_send_test",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        config = self.get_object(request, object_id)
        extra = {}
        if config is not None:
            extra = {
                "test_form": ChannelTestForm(),
                "needs_recipient": config.kind != "slack",
                "can_test": self.has_change_permission(request, config),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def send_test_view(self, request, pk):
        if request.method != "POST":
            raise PermissionDenied
        config = ChannelConfig.objects.select_related("workspace").filter(pk=pk).first()
        if config is None:
            raise Http404("No such channel.")
        if not self.has_change_permission(request, config):
            raise PermissionDenied
        form = ChannelTestForm(request.POST)
        recipient = None
        if form.is_valid() and config.kind != "slack":
            recipient = form.cleaned_data["recipient"].strip() or None
        _report_test(self, request, config, recipient=recipient)
        return redirect("admin:notifications_channelconfig_change", config.pk)

    @admin.display(description="Secret")
    def secret_masked(self, obj):
        return mask_webhook_url(obj.webhook_url) or mask_secret(obj.bot_token or obj.auth_token) or "—"

    @admin.display(description="Destination")
    def destination(self, obj):
        return obj.channel_id or obj.from_number or obj.messaging_service_sid or obj.from_name or "—"

    @admin.action(description="Send a test message (Slack: its channel; email/SMS/WhatsApp: your address or phone)")
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
    except ValidationError as exc:  # the recipient: not an address or number we may test with
        model_admin.message_user(request, f"{config}: not sent. {' '.join(exc.messages)}", messages.ERROR)
        return
    level = messages.SUCCESS if result.ok else messages.ERROR
    model_admin.message_user(request, f"{config}: {describe_test_result(result)}", level)


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


def notification_purpose(notification: Notification) -> str:
    """What a notification is for, read from its idempotency key (see planning and event messages)."""
    key = notification.idempotency_key or ""
    reminder = notification.reminder.name if notification.reminder_id and notification.reminder else ""
    if key.startswith("resend:"):
        return "Resend"
    if key.startswith("manual:"):
        return f"Manual copy: {reminder}" if reminder else "Manual copy"
    if key.startswith("event:"):
        if ":invite:" in key:
            return "Invitation"
        if ":cancel:" in key:
            return "Cancellation notice"
        return "Event change notice"
    parts = key.split(":")
    purpose = parts[2] if len(parts) > 2 else ""
    if purpose == "digest":
        return "Birthday digest"
    if purpose.startswith("greeting-"):
        return "Greeting (" + purpose.removeprefix("greeting-") + ")"
    if purpose == "reminder":
        return f"Reminder: {reminder}" if reminder else "Reminder"
    return purpose or "—"


class NotificationWorkspaceFilter(admin.SimpleListFilter):
    """Workspaces by name (only those that have failures are offered first)."""

    title = "workspace"
    parameter_name = "workspace__id__exact"

    def lookups(self, request, model_admin):
        from workspaces.models import Workspace

        return [(str(pk), name) for pk, name in Workspace.objects.order_by("name").values_list("pk", "name")[:200]]

    def queryset(self, request, queryset):
        if self.value():
            try:
                return queryset.filter(workspace_id=uuid.UUID(self.value()))
            except ValueError:
                return queryset.none()
        return queryset


class NotificationJobRunFilter(admin.SimpleListFilter):
    """The notifications one job run wrote (the job runs list links here)."""

    title = "job run"
    parameter_name = "job_run"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, f"Run {value[:8]}")] if value else []

    def queryset(self, request, queryset):
        from scheduling.admin import job_run_notifications

        if not self.value():
            return queryset
        try:
            run_id = uuid.UUID(self.value())
        except ValueError:
            return queryset.none()
        return queryset.filter(pk__in=job_run_notifications(run_id).values("pk"))


@admin.register(Notification)
class NotificationAdmin(WorkspaceColumns, admin.ModelAdmin):
    list_display = (
        "short_id",
        "purpose",
        "workspace_name",
        "channel",
        "recipient",
        "status_badge",
        "attempts",
        "last_error_short",
        "next_attempt",
        "created_at",
    )
    list_filter = ("status", "channel", NotificationWorkspaceFilter, NotificationJobRunFilter)
    search_fields = ("recipient", "idempotency_key", "=id", "last_error", "workspace__name")
    list_select_related = ("workspace", "reminder")
    fields = (
        "purpose",
        "workspace_link",
        "status",
        "channel",
        "recipient",
        "attempts",
        "last_error",
        "next_attempt",
        "created_local",
        "sent_local",
        "delivered_local",
        "subject",
        "body",
        "reminder",
        "person",
        "occurrence_date",
        "provider_message_id",
        "idempotency_key",
        "resent_from",
        "retried_after_unknown",
        "id",
    )
    readonly_fields = fields
    inlines = (DeliveryAttemptInline,)
    actions = ("resend", "send_test_message")
    date_hierarchy = "created_at"
    show_full_result_count = False
    change_form_template = "admin/notifications/notification/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Delivery history is read-only: it is acted on with Resend and Send test, never edited.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        dashboard = view(partial(dashboard_view, model_admin=self))
        return [
            path("dashboard/", dashboard, name="notifications_dashboard"),
            path(
                "dashboard/resend-failed/<uuid:pk>/",
                view(partial(resend_failed_view, model_admin=self)),
                name="notifications_resend_failed",
            ),
            path("<uuid:pk>/resend/", view(self.resend_view), name="notifications_notification_resend"),
            path("<uuid:pk>/send-test/", view(self.send_test_view), name="notifications_notification_send_test"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        notification = self.get_object(request, object_id)
        extra = {
            "resendable": notification is not None and notification.status in services.RESENDABLE,
            "needs_address": notification is not None and notification.channel != "slack",
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def resend_view(self, request, pk):
        notification = self._acted_on(request, pk)
        try:
            copy = services.notification_resend(notification=notification, actor=request.user, origin=ADMIN_ORIGIN)
        except ApplicationError as exc:
            self.message_user(request, f"Not resent: {exc.message}", messages.WARNING)
            return redirect("admin:notifications_notification_change", notification.pk)
        self.message_user(request, f"Resent as a new notification ({str(copy.pk)[:8]}), queued now.", messages.SUCCESS)
        return redirect("admin:notifications_notification_change", copy.pk)

    def send_test_view(self, request, pk):
        notification = self._acted_on(request, pk)
        config = ChannelConfig.objects.filter(workspace=notification.workspace, kind=notification.channel).first()
        if config is None:
            self.message_user(
                request,
                f"{notification.workspace.name} has no {notification.channel} channel configured.",
                messages.WARNING,
            )
        else:
            recipient = (
                None if notification.channel == "slack" else (request.POST.get("recipient") or notification.recipient)
            )
            _report_test(self, request, config, recipient=recipient)
        return redirect("admin:notifications_notification_change", notification.pk)

    def _acted_on(self, request, pk) -> Notification:
        if request.method != "POST":
            raise PermissionDenied
        if not self.has_view_permission(request) or not request.user.has_perm("notifications.change_notification"):
            raise PermissionDenied
        notification = Notification.objects.select_related("workspace").filter(pk=pk).first()
        if notification is None:
            raise Http404("No such notification.")
        return notification

    @admin.display(description="Id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="Purpose")
    def purpose(self, obj):
        return notification_purpose(obj)

    @admin.display(description="Last error", ordering="last_error")
    def last_error_short(self, obj):
        text = obj.last_error or ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="Next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj):
        if obj.status not in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            return "—"
        return local_time(obj.next_attempt_at, obj.workspace.timezone)

    @admin.display(description="Created (workspace time)")
    def created_local(self, obj):
        return local_time(obj.created_at, obj.workspace.timezone)

    @admin.display(description="Sent (workspace time)")
    def sent_local(self, obj):
        return local_time(obj.sent_at, obj.workspace.timezone)

    @admin.display(description="Delivered (workspace time)")
    def delivered_local(self, obj):
        return local_time(obj.delivered_at, obj.workspace.timezone)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return format_html('<b class="bb-status bb-status-{}">{}</b>', obj.status, obj.get_status_display())

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_notification")

    @admin.action(description="Resend (failed or unknown only)", permissions=("resend",))
    def resend(self, request, queryset):
        page = confirm_action(
            self,
            request,
            queryset.select_related("workspace", "reminder"),
            action="resend",
            title="Resend notifications",
            explanation="Each failed or unknown notification below is sent again as a new notification; "
            "others are left alone.",
            describe=lambda n: "resent" if n.status in services.RESENDABLE else f"left alone: it is {n.status}",
        )
        if page is not None:
            return page
        lines = []
        for notification in queryset.select_related("workspace"):
            label = f"{str(notification.pk)[:8]} ({notification.recipient})"
            if notification.status not in services.RESENDABLE:
                lines.append((messages.WARNING, f"{label}: not resent, it is {notification.status}."))
                continue
            try:
                services.notification_resend(notification=notification, actor=request.user, origin=ADMIN_ORIGIN)
            except ApplicationError as exc:
                lines.append((messages.WARNING, f"{label}: not resent. {exc.message}"))
                continue
            lines.append((messages.SUCCESS, f"{label}: resent."))
        report(self, request, lines)
        return None

    @admin.action(description="Send a test message to this notification's destination", permissions=("resend",))
    def send_test_message(self, request, queryset):
        for notification in queryset.select_related("workspace")[:10]:
            config = ChannelConfig.objects.filter(workspace=notification.workspace, kind=notification.channel).first()
            if config is None:
                self.message_user(
                    request, f"{notification.workspace.name} has no {notification.channel} channel configured."
                )
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
