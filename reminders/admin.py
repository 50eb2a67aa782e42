from django.contrib import admin, messages

from reminders import schedule
from reminders.models import Reminder, ReminderKind
from workspaces.audit import ADMIN_ORIGIN


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "kind", "audience", "urgent", "active", "next_run_at", "last_run_at")
    list_filter = ("kind", "active", "urgent", "audience", "message_type")
    search_fields = ("name", "workspace__name", "workspace__slug", "event__title")
    autocomplete_fields = ("workspace",)
    raw_id_fields = ("event", "recipients")
    readonly_fields = (
        "id",
        "next_run_at",
        "next_occurrence_at",
        "last_run_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    list_select_related = ("workspace",)
    actions = ("run_digest_now", "send_now", "reschedule")

    def save_related(self, request, form, formsets, change):
        # Staff edits skip the API's services; the schedule still follows them.
        super().save_related(request, form, formsets, change)
        schedule.reminder_reschedule(reminder=form.instance)

    @admin.action(description="Run today's digest now (idempotent)")
    def run_digest_now(self, request, queryset):
        from scheduling import services

        created = already = 0
        for reminder in queryset.filter(kind=ReminderKind.BIRTHDAY_DIGEST).select_related("workspace"):
            run = services.digest_run_now(workspace=reminder.workspace, actor=request.user, origin=ADMIN_ORIGIN)
            created += len(run.result.created_ids)
            already += run.result.already_sent
        self.message_user(request, f"{created} notification(s) created, {already} already sent.", messages.SUCCESS)

    @admin.action(description="Send the current occurrence now (idempotent)")
    def send_now(self, request, queryset):
        from birthdaybuddy.errors import ApplicationError
        from scheduling import services

        created = already = refused = 0
        for reminder in queryset.select_related("workspace", "event"):
            try:
                result = services.reminder_send_now(reminder=reminder, actor=request.user, origin=ADMIN_ORIGIN).result
            except ApplicationError:
                refused += 1
                continue
            created += len(result.created_ids)
            already += result.already_sent
        text = f"{created} notification(s) created, {already} already sent."
        if refused:
            text += f" {refused} reminder(s) had nothing to send (cancelled event or no occurrence left)."
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description="Recompute next run")
    def reschedule(self, request, queryset):
        count = 0
        for reminder in queryset.select_related("workspace", "event"):
            schedule.reminder_reschedule(reminder=reminder)
            count += 1
        self.message_user(request, f"{count} reminder(s) rescheduled.", messages.SUCCESS)
