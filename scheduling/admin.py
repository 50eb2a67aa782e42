from django.contrib import admin

from scheduling.models import JobRun, Occurrence


class OccurrenceInline(admin.TabularInline):
    model = Occurrence
    extra = 0
    can_delete = False
    fields = ("reminder", "local_date", "local_time", "scheduled_at", "outcome", "notifications")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "kind", "workspace", "due", "created", "missed", "dry_run", "finished_at")
    list_filter = ("kind", "dry_run")
    search_fields = ("workspace__name", "error")
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in JobRun._meta.fields]
    inlines = (OccurrenceInline,)
    list_select_related = ("workspace",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ("reminder", "local_date", "local_time", "scheduled_at", "outcome", "notifications", "processed_at")
    list_filter = ("outcome",)
    search_fields = ("reminder__name", "reminder__workspace__name")
    date_hierarchy = "scheduled_at"
    readonly_fields = [f.name for f in Occurrence._meta.fields]
    list_select_related = ("reminder",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
