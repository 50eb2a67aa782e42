"""Deliveries in the admin: the notification list and its read-only detail (Resend, Send test),
delivery attempts, inbound contacts, templates. Channels: ``admin_channels``; the dashboard:
``admin_dashboard``; the audit log's "Replay": ``admin_audit``."""

import uuid
from functools import partial
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
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
from notifications.admin_channels import report_test  # also registers the channels' admin
from notifications.admin_dashboard import dashboard_view, resend_failed_view
from notifications.models import (
    ChannelConfig,
    DeliveryAttempt,
    InboundContact,
    Notification,
    NotificationStatus,
    Template,
)
from notifications.threads import AWAITING_PARENT


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    """A workspace's variants; ``clean()`` validates each as the API does (a variant's label is unique
    per workspace, kind and channel: the database constraint, checked by the form)."""

    list_display = ("workspace", "reminder_kind", "channel", "label", "image_url", "updated_at")
    list_filter = ("reminder_kind", "channel")
    search_fields = ("workspace__name", "workspace__slug", "label", "body")
    fields = ("workspace", "reminder_kind", "channel", "label", "subject", "body", "image_url", "image_alt")
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
    if key.startswith("appointment:"):
        # appointment:<reminder>:<sequence>:… (a confirmation), …:update:<sequence>:…, …:cancel:<sequence>:…
        step = key.split(":")[2] if key.count(":") >= 2 else ""
        label = {"update": "Appointment update", "cancel": "Appointment cancellation"}.get(
            step, "Appointment confirmation"
        )
        return f"{label}: {reminder}" if reminder else label
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
    # The engine adds its "job run" filter (scheduling/admin.py).
    list_filter: ClassVar[tuple[Any, ...]] = ("status", "channel", NotificationWorkspaceFilter)
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
        "thread_parent",
        "blocks",
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
            report_test(self, request, config, recipient=recipient)
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
        if obj.next_attempt_at == AWAITING_PARENT:
            return "after its thread's parent is sent"
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
            report_test(self, request, config, recipient=recipient)


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
