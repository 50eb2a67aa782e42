from django.contrib import admin, messages

from reminders.models import Reminder, ReminderKind


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "kind", "active", "next_run_at", "last_run_at")
    list_filter = ("kind", "active", "audience")
    search_fields = ("name", "workspace__name", "workspace__slug")
    autocomplete_fields = ("workspace",)
    readonly_fields = ("id", "next_run_at", "last_run_at", "created_by", "created_at", "updated_at")
    list_select_related = ("workspace",)
    actions = ("run_digest_now", "reschedule")

    @admin.action(description="Run today's digest now (idempotent)")
    def run_digest_now(self, request, queryset):
        from scheduling import services

        created = already = 0
        for reminder in queryset.filter(kind=ReminderKind.BIRTHDAY_DIGEST).select_related("workspace"):
            run = services.digest_run_now(workspace=reminder.workspace)
            created += len(run.result.created_ids) if run.result else 0
            already += run.result.already_sent if run.result else 0
        self.message_user(request, f"{created} notification(s) created, {already} already sent.", messages.SUCCESS)

    @admin.action(description="Recompute next run")
    def reschedule(self, request, queryset):
        from scheduling import services

        count = 0
        for reminder in queryset.filter(kind=ReminderKind.BIRTHDAY_DIGEST).select_related("workspace"):
            services.reminder_reschedule(reminder=reminder)
            count += 1
        self.message_user(request, f"{count} reminder(s) rescheduled.", messages.SUCCESS)
