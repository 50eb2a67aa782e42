import uuid
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import Exists, F, Func, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from birthdaybuddy.admin_tools import local_time
from notifications.admin import NotificationAdmin
from notifications.models import Notification, NotificationStatus
from scheduling import admin_reminders  # noqa: F401  (adds its actions to the reminders' admin)
from scheduling.models import JobRun, Occurrence

SENT = (NotificationStatus.SENT, NotificationStatus.DELIVERED)


def job_run_notifications(job_run_id):
    """The notifications a run wrote: those of its occurrences (resends made later are not its own)."""
    return Notification.objects.filter(
        Exists(
            Occurrence.objects.filter(
                job_run_id=job_run_id, reminder_id=OuterRef("reminder_id"), local_date=OuterRef("occurrence_date")
            )
        ),
        resent_from__isnull=True,
    )


def _count(condition: Q | None = None):
    rows = job_run_notifications(OuterRef(OuterRef("pk")))  # the job run, two levels out
    if condition is not None:
        rows = rows.filter(condition)
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class WorkFilter(admin.SimpleListFilter):
    """Ticks that found nothing are folded away unless asked for."""

    title = "work"
    parameter_name = "work"

    def lookups(self, request, model_admin):
        return [("all", "All runs, empty ones too"), ("none", "Found nothing")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "With work",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        worked = Q(due__gt=0) | Q(created__gt=0) | Q(missed__gt=0) | ~Q(error="")
        if self.value() == "all":
            return queryset
        if self.value() == "none":
            return queryset.exclude(worked)
        return queryset.filter(worked)


class OccurrenceInline(admin.TabularInline):
    model = Occurrence
    extra = 0
    can_delete = False
    fields = ("reminder", "local_date", "local_time", "scheduled_at", "outcome", "notifications")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


class NotificationJobRunFilter(admin.SimpleListFilter):
    """The notifications one job run wrote (the job runs list links here)."""

    title = "job run"
    parameter_name = "job_run"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, f"Run {value[:8]}")] if value else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            run_id = uuid.UUID(self.value())
        except ValueError:
            return queryset.none()
        return queryset.filter(pk__in=job_run_notifications(run_id).values("pk"))


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_local",
        "kind",
        "workspace",
        "due",
        "created_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "missed",
        "notifications_link",
        "dry_run",
    )
    list_filter = (WorkFilter, "kind", "dry_run")
    search_fields = ("workspace__name", "error")
    date_hierarchy = "started_at"
    readonly_fields = [
        "created_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "notifications_link",
        *(f.name for f in JobRun._meta.fields if f.name not in {"created", "sent", "failed"}),
    ]
    inlines = (OccurrenceInline,)
    list_select_related = ("workspace",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_created=_count(),
                n_sent=_count(Q(status__in=SENT)),
                n_failed=_count(Q(status=NotificationStatus.FAILED)),
                n_skipped=_count(Q(status=NotificationStatus.SKIPPED)),
            )
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Started (workspace time, else UTC)", ordering="started_at")
    def started_local(self, obj):
        return local_time(obj.started_at, obj.workspace.timezone if obj.workspace else "UTC")

    @admin.display(description="Created")
    def created_count(self, obj):
        return obj.n_created

    @admin.display(description="Sent")
    def sent_count(self, obj):
        return obj.n_sent

    @admin.display(description="Failed")
    def failed_count(self, obj):
        return obj.n_failed

    @admin.display(description="Skipped")
    def skipped_count(self, obj):
        return obj.n_skipped

    @admin.display(description="Notifications")
    def notifications_link(self, obj):
        if not obj.n_created:
            return "—"
        url = reverse("admin:notifications_notification_changelist") + "?" + urlencode({"job_run": obj.pk})
        return format_html('<a href="{}">{} notification(s)</a>', url, obj.n_created)


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


# The notification list's "job run" filter and the reminder's "Send now" / "Run today's digest":
# the engine's, added to the admins of the apps below it.
NotificationAdmin.list_filter = (*NotificationAdmin.list_filter, NotificationJobRunFilter)
